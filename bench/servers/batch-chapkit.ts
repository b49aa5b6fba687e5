// The chapkit side of the batch-predict suite: an ML service whose runner
// predicts y = slope·x, on the store DATABASE_URL names, without request logging.
import { Type } from "@sinclair/typebox";
import { functionalRunner } from "../../src/modules/ml/engine/functional-runner.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";

const runner = functionalRunner<Record<string, unknown>, { slope: number }>({
  onTrain: ({ data }) => ({ slope: data.column("y")[0]! / data.column("x")[0]! }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((v) => model.slope * v)),
});

await new MLServiceBuilder({
  info: { display_name: "Batch prediction bench" },
  configSchema: Type.Object({}, { title: "AnyConfig", additionalProperties: true }),
  runner,
  logging: false,
  databaseUrl: process.env.DATABASE_URL ?? "sqlite::memory:",
}).listen(Number(process.env.PORT ?? 8000), { hostname: "127.0.0.1" });
