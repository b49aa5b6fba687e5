/**
 * ML class: a class-based runner over `rainfall`, `mean_temperature` and
 * `humidity`, with standardisation, config fields `min_samples` (default 5)
 * and `normalize_features` (default true). Too little data fails the job
 * with `ValueError: Insufficient training data: N < M`.
 *
 *   bun examples/ml_class.ts        # or: deno run -A examples/ml_class.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite).
 */
import { type Static, Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { validateValue } from "chapkit/db";
import {
  BaseModelRunner,
  DataFrame,
  fitLinearRegression,
  jsonModel,
  type LinearModel,
  type PredictContext,
  predictLinear,
  type TrainContext,
  type TrainedModel,
  ValueError,
} from "chapkit/ml";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const FEATURES = ["rainfall", "mean_temperature", "humidity"] as const;

/** The config schema: `data` of every config of this service. */
export const WeatherConfig = Type.Object({
  min_samples: Type.Integer({ default: 5, title: "Min Samples" }),
  normalize_features: Type.Boolean({ default: true, title: "Normalize Features" }),
}, { title: "WeatherConfig", additionalProperties: true });

interface Scaler {
  means: number[];
  stds: number[];
}

interface WeatherModel {
  regression: LinearModel;
  scaler: Scaler | null;
}

function fitScaler(frame: DataFrame): Scaler {
  const means: number[] = [];
  const stds: number[] = [];
  for (const feature of FEATURES) {
    const values = frame.column(feature);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    means.push(mean);
    stds.push(Math.sqrt(variance) || 1);
  }
  return { means, stds };
}

function scale(frame: DataFrame, scaler: Scaler | null): DataFrame {
  if (!scaler) return frame;
  let out = frame;
  FEATURES.forEach((feature, i) => {
    const values = frame.column(feature).map((x) => (x - scaler.means[i]!) / scaler.stds[i]!);
    out = out.withColumn(feature, values);
  });
  return out;
}

/** A runner written as a class: the framework calls `onInit`/`onCleanup` around each operation. */
export class WeatherRunner extends BaseModelRunner {
  #operations = 0;

  override onInit(): void {
    this.#operations += 1;
  }

  override onCleanup(): void {
    this.#operations -= 1;
  }

  async train({ config, data }: TrainContext): Promise<TrainedModel> {
    const settings = validateValue<Static<typeof WeatherConfig>>(WeatherConfig, config, { loc: ["config"] });
    if (data.rowCount < settings.min_samples) {
      throw new ValueError(`Insufficient training data: ${data.rowCount} < ${settings.min_samples}`);
    }
    const scaler = settings.normalize_features ? fitScaler(data) : null;
    const regression = fitLinearRegression(scale(data, scaler), { features: FEATURES, target: "disease_cases" });
    const model: WeatherModel = { regression, scaler };
    return jsonModel(model);
  }

  async predict({ model, future }: PredictContext): Promise<DataFrame> {
    const { regression, scaler } = (model as { value: WeatherModel }).value;
    return future.withColumn("sample_0", predictLinear(regression, scale(future, scaler)));
  }
}

if (import.meta.main) {
  const service = await new MLServiceBuilder({
    info: {
      display_name: "Weather Prediction ML Service",
      version: "1.0.0",
      summary: "Disease cases from rainfall, temperature and humidity, with standardised features",
      author: "ML Team",
      author_assessed_status: "orange",
    },
    configSchema: WeatherConfig,
    runner: new WeatherRunner(),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  }).withMonitoring().listen(Number(env.PORT ?? 8000));
  console.log(`ML class service on ${service.url} (docs at ${service.url}/docs)`);
}
