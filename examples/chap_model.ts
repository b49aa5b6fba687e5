/**
 * A model chap-core can discover, train and predict with: the chap profile
 * (chapkit 1.x contract), ordinary least squares of `disease_cases` on
 * `rainfall` and `mean_temperature` with an intercept, predictions in
 * `sample_0` for every future row.
 *
 *   bun examples/chap_model.ts        # or: deno run -A examples/chap_model.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory
 * SQLite), and for self-registration with chap-core
 * `SERVICEKIT_ORCHESTRATOR_URL` (e.g. `http://chap:8000/v2/services/$register`),
 * `SERVICEKIT_HOST`, `SERVICEKIT_PORT` and `SERVICEKIT_REGISTRATION_KEY`.
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { fitLinearRegression, functionalRunner, type LinearModel, predictLinear, ValueError } from "chapkit/ml";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const FEATURES = ["rainfall", "mean_temperature"];
const TARGET = "disease_cases";

/** Fits on every training row; a frame without a required column fails the job naming it. */
export const runner = functionalRunner<Record<string, unknown>, LinearModel>({
  onTrain: ({ data }) => {
    const missing = [...FEATURES, TARGET].filter((column) => !data.has(column));
    if (missing.length > 0) throw new ValueError(`Training data is missing required column(s): ${missing.join(", ")}`);
    return fitLinearRegression(data, { features: FEATURES, target: TARGET });
  },
  onPredict: ({ model, future }) => {
    const missing = FEATURES.filter((column) => !future.has(column));
    if (missing.length > 0) throw new ValueError(`Future data is missing required column(s): ${missing.join(", ")}`);
    return future.select(["time_period", "location"]).withColumn("sample_0", predictLinear(model, future));
  },
});

/** The service, unstarted (tests build it in-process). */
export function chapModel(): MLServiceBuilder {
  return new MLServiceBuilder({
    info: {
      id: "chapkit-linear",
      display_name: "Chapkit linear model",
      version: "1.0.0",
      description: "Ordinary least squares of disease_cases on rainfall and mean_temperature",
      model_metadata: {
        author: "Chapkit",
        author_assessed_status: "red",
        contact_email: "chapkit@example.org",
      },
      period_type: "monthly",
      required_covariates: FEATURES,
    },
    configSchema: Type.Object({}, { title: "ChapkitLinearConfig", additionalProperties: true }),
    runner,
    profile: "chap",
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  }).withRegistration();
}

if (import.meta.main) {
  const service = await chapModel().listen(Number(env.PORT ?? 8000));
  console.log(`chapkit-linear on ${service.url} (docs at ${service.url}/docs)`);
}
