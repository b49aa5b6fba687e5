/** `ml`: a functional runner (least squares in TypeScript) behind `$train` and `$predict`. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT, HEALTH_TEST, ML_COLUMNS, ML_FUTURE, ML_ROWS, testPrelude, trainPredictTest } from "./_test-prelude.ts";

/** The usage paragraph the ML templates share. */
export const ML_USAGE = "Create a config (`POST /api/v1/config`), train with `POST /api/v1/ml/$train` " +
  "(`{config_id, data: {columns, data}}`), then predict with `POST /api/v1/ml/$predict` " +
  "(`{model_artifact_id, future}`); both answer with a job id to poll at `/api/v1/jobs/{id}`.";

/**
 * The end of every ML template's main.ts: `createService()` over \`runner\` and
 * the listen block. \`runner\` is the expression the builder gets.
 */
export function mlService(options: { name: string; title: string; summary: string; configTitle: string; runner: string }): string {
  const { name, title } = options;
  return `/** The service, not yet listening; main.test.ts builds it in-process. */
export function createService(databaseUrl = process.env.DATABASE_URL ?? "sqlite:./${name}.db"): MLServiceBuilder {
  return new MLServiceBuilder({
    info: {
      display_name: "${title}",
      version: "0.1.0",
      summary: "${options.summary}",
      author_assessed_status: "yellow",
    },
    configSchema: Type.Object({}, { title: "${options.configTitle}", additionalProperties: true }),
    ${options.runner === "runner" ? "runner," : `runner: ${options.runner},`}
    databaseUrl,
  });
}

if (import.meta.main) {
  const service = await createService().listen(Number(process.env.PORT ?? 8000));
  console.log(\`${title} listening on \${service.url} (docs at \${service.url}/docs)\`);
}
`;
}

/** The test of every ML template: health plus a train → predict round trip. */
export const mlTest = (): string =>
  `${testPrelude()}${HEALTH_TEST}${trainPredictTest(ML_COLUMNS, ML_ROWS, ML_FUTURE)}`;

/** `chapkit init --template ml`: train/predict with a functional runner written in TypeScript. */
export const mlTemplate: ProjectTemplate = {
  name: "ml",
  description: "train/predict with a functional runner written in TypeScript",
  usage: ML_USAGE,
  main: ({ name, title }) => `/**
 * ${title}: linear regression of disease_cases on rainfall and mean_temperature.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db).
 */
${ENV_IMPORT}
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { fitLinearRegression, functionalRunner, type LinearModel, predictLinear } from "chapkit/ml";

const FEATURES = ["rainfall", "mean_temperature"];

/** Fits on $train, adds a sample_0 column on $predict. */
export const runner = functionalRunner<Record<string, unknown>, LinearModel>({
  onTrain: ({ data }) => fitLinearRegression(data, { features: FEATURES, target: "disease_cases" }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
});

${mlService({ name, title, summary: "Disease cases from weather data", configTitle: "ModelConfig", runner: "runner" })}`,
  test: mlTest,
};
