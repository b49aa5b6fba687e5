/**
 * ML basic: linear regression of `disease_cases` on `rainfall` and
 * `mean_temperature`, least squares in TypeScript, predictions in `sample_0`.
 *
 *   bun examples/ml_basic.ts        # or: deno run -A examples/ml_basic.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite).
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import {
  fitLinearRegression,
  functionalRunner,
  type LinearModel,
  predictLinear,
} from "chapkit/ml";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const FEATURES = ["rainfall", "mean_temperature"];

/** The runner: fit on train, apply on predict. */
export const runner = functionalRunner<Record<string, unknown>, LinearModel>({
  onTrain: ({ data }) => fitLinearRegression(data, { features: FEATURES, target: "disease_cases" }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
});

if (import.meta.main) {
  const service = await new MLServiceBuilder({
    info: {
      display_name: "Disease Prediction ML Service",
      version: "1.0.0",
      summary: "ML service for disease prediction using weather data",
      description: "Train and predict disease cases based on rainfall and temperature data using Linear Regression",
      author: "ML Team",
      author_assessed_status: "yellow",
      contact_email: "ml-team@example.com",
    },
    configSchema: Type.Object({}, { title: "DiseaseConfig", additionalProperties: true }),
    runner,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  }).withMonitoring().listen(Number(env.PORT ?? 8000));

  console.log(`ML basic service on ${service.url} (docs at ${service.url}/docs)`);
}
