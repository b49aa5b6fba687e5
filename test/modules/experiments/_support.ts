/** Helpers of the experiments tests: an ML service with experiments on a fresh store, and a runner that logs a loss curve. */
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import type { ModelRunner } from "../../../src/modules/ml/engine/runner.ts";
import { experimentsModule } from "../../../src/modules/experiments/mod.ts";
import type { ServiceModule } from "../../../src/http/module.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { MLServiceBuilder } from "../../../src/service/ml-service-builder.ts";
import type { TestStore } from "../../_support/stores.ts";

/** y ≈ slope · x; the config's `epochs` and `rate` drive a gradient descent whose loss is logged per epoch. */
export interface SlopeConfig {
  epochs?: number;
  rate?: number;
  fail?: boolean;
  /** Milliseconds the training takes at least. */
  sleep?: number;
}

/** Gradient descent on `y = w · x`: logs `loss` per epoch and `rmse` at the end, and the param `init`. */
export const slopeRunner: ModelRunner = functionalRunner<SlopeConfig, { w: number }>({
  inputColumns: ["x"],
  outputColumns: ["sample_0"],
  onTrain: async ({ config, data, logMetric, logParam }) => {
    if (config.sleep) await new Promise((resolve) => setTimeout(resolve, config.sleep));
    if (config.fail) throw new Error("training diverged");
    const x = data.column("x");
    const y = data.column("y");
    let w = 0;
    logParam?.("init", 0);
    const epochs = config.epochs ?? 5;
    const rate = config.rate ?? 0.01;
    const loss = (): number => x.reduce((sum, v, i) => sum + (w * v - y[i]!) ** 2, 0) / x.length;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const gradient = x.reduce((sum, v, i) => sum + 2 * (w * v - y[i]!) * v, 0) / x.length;
      w -= rate * gradient;
      logMetric?.("loss", loss(), epoch);
    }
    logMetric?.("rmse", Math.sqrt(loss()));
    return { w };
  },
  onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((v) => model.w * v)),
});

/** Training data: y = 2x. */
export const TRAINING = { columns: ["x", "y"], data: [[1, 2], [2, 4], [3, 6], [4, 8]] };

/** A service on a fresh store of `store`. */
export interface ExperimentService {
  app: ServiceApp;
  db: Driver;
  close(): Promise<void>;
}

/** An ML service over `runner` with the experiments module (and further modules) on a fresh store. */
export async function openExperimentService(
  store: TestStore,
  runner: ModelRunner = slopeRunner,
  modules: ServiceModule[] = [experimentsModule()],
  jobs?: (builder: MLServiceBuilder) => void,
): Promise<ExperimentService> {
  const db = await store.open();
  const builder = new MLServiceBuilder({
    info: { display_name: "Experiments test service" },
    configSchema: Type.Object({}, { title: "AnyConfig", additionalProperties: true }),
    runner,
    logging: false,
  }).withDatabase(db);
  for (const module of modules) builder.module(module);
  jobs?.(builder);
  const app = await builder.build();
  return {
    app,
    db,
    close: async () => {
      await app.chapkit.close();
      await db.close();
    },
  };
}
