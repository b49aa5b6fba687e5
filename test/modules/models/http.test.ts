import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { MODEL_SERVER_KEY } from "../../../src/modules/ml/mod.ts";
import type { ModelServer } from "../../../src/modules/ml/model-server.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { call, createConfig, finished, json, type Json, type MlService, openMlService, problem } from "../ml/_support.ts";

const TRAINING = { columns: ["x", "y"], data: [[1, 2], [2, 4], [3, 6]] };
const FUTURE = { columns: ["x"], data: [[10], [20]] };

/** y = slope · x, the slope fitted as mean(y / x); `offset` in the config shifts predictions, so versions differ. */
const runner = functionalRunner<{ offset?: number }, { slope: number; offset: number }>({
  inputColumns: ["x"],
  outputColumns: ["sample_0"],
  onTrain: ({ data, config, metrics }) => {
    const x = data.column("x");
    const y = data.column("y");
    const slope = y.reduce((sum, v, i) => sum + v / x[i]!, 0) / y.length;
    if (metrics) metrics.rmse = config.offset ?? 0;
    return { slope, offset: config.offset ?? 0 };
  },
  onPredict: ({ model, future }) =>
    future.withColumn("sample_0", future.column("x").map((v) => model.slope * v + model.offset)),
});

async function trainVersion(service: MlService, configId: string, model: unknown): Promise<void> {
  const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: TRAINING, model }), 202);
  assert.deepEqual(Object.keys(answer).sort(), ["job_id", "message", "model_artifact_id"]);
  const record = await finished(service.app, String(answer.job_id));
  assert.equal(record.status, "completed", record.error ?? "");
}

async function predicted(service: MlService, body: Json): Promise<Json> {
  const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { future: FUTURE, ...body }), 202);
  const record = await finished(service.app, String(answer.job_id));
  assert.equal(record.status, "completed", record.error ?? "");
  return (await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200)).data as Json;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`model registry over HTTP on ${store.name}`, () => {
    let service: MlService;
    before(async () => {
      service = await openMlService(store, runner);
      const base = await createConfig(service.app, "base", { offset: 0 });
      const shifted = await createConfig(service.app, "shifted", { offset: 1 });
      await trainVersion(service, base, "dengue");
      await trainVersion(service, shifted, { name: "dengue", description: "shifted by one", tags: ["shift"], params: { offset: 1 } });
      await trainVersion(service, base, undefined);
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("every trained model is a version of a named model, the config's name by default", async () => {
      const models = await json<Json[]>(await call(service.app, "GET", "/api/v1/models"), 200);
      assert.deepEqual(models.map((m) => [m.name, m.latest_version, m.version_count]), [["base", "1.0.0", 1], ["dengue", "1.1.0", 2]]);
      const versions = await json<Json[]>(await call(service.app, "GET", "/api/v1/models/dengue/versions"), 200);
      assert.deepEqual(versions.map((v) => v.version), ["1.1.0", "1.0.0"]);
      const latest = versions[0]!;
      assert.deepEqual([latest.description, latest.tags, latest.params, latest.metrics, latest.config, latest.status],
        ["shifted by one", ["shift"], { offset: 1 }, { rmse: 1 }, { offset: 1 }, "active"]);
      assert.match(String(latest.data_hash), /^sha256:[0-9a-f]{64}$/);
      assert.equal(latest.data_hash, versions[1]!.data_hash, "the same training data has the same hash");
      await json(await call(service.app, "GET", `/api/v1/artifacts/${latest.artifact_id}`), 200);
    });

    test("compare answers metrics side by side and the params diff", async () => {
      const comparison = await json(await call(service.app, "GET", "/api/v1/models/dengue/$compare?versions=1.0.0,1.1.0"), 200);
      assert.deepEqual(comparison.metrics, { rmse: { "1.0.0": 0, "1.1.0": 1 } });
      assert.deepEqual(comparison.params_diff, { offset: { "1.0.0": null, "1.1.0": 1 } });
      await problem(await call(service.app, "GET", "/api/v1/models/dengue/$compare?versions=1.0.0"), 400);
    });

    test("$predict accepts name@version and name@alias and records the version that answered", async () => {
      await json(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/champion", { version: "1.0.0" }), 200);
      const byVersion = await predicted(service, { model: "dengue@1.1.0" });
      assert.deepEqual((byVersion.predictions as Json).data, [[10, 21], [20, 41]]);
      assert.deepEqual([byVersion.model_name, byVersion.model_version, byVersion.route_arm], ["dengue", "1.1.0", "version"]);
      const byAlias = await predicted(service, { model: "dengue@champion" });
      assert.deepEqual((byAlias.predictions as Json).data, [[10, 20], [20, 40]]);
      assert.equal(byAlias.model_version, "1.0.0");
    });

    test("a bad model reference is a clear problem and submits no job", async () => {
      await problem(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "dengue@nobody", future: FUTURE }), 404);
      await problem(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "dengue@9.9.9", future: FUTURE }), 404);
      await problem(await call(service.app, "POST", "/api/v1/ml/$predict", { future: FUTURE }), 422);
      await problem(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "no such!", future: FUTURE }), 422);
      const jobs = await json<Json[]>(await call(service.app, "GET", "/api/v1/jobs"), 200);
      assert.ok(jobs.every((job) => job.status === "completed"));
    });

    test("moving an alias is audited and $rollback moves it back to its previous target", async () => {
      await json(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/production", { version: "1.0.0" }), 200);
      await json(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/production", { version: "1.1.0", reason: "better" }), 200);
      const back = await json(await call(service.app, "POST", "/api/v1/models/dengue/aliases/production/$rollback"), 200);
      assert.deepEqual([back.from_version, back.to_version, back.action], ["1.1.0", "1.0.0", "rollback"]);
      const history = await json<Json[]>(await call(service.app, "GET", "/api/v1/models/dengue/aliases/$history?alias=production"), 200);
      assert.deepEqual(history.map((e) => [e.action, e.to_version, e.reason]), [["rollback", "1.0.0", null], ["move", "1.1.0", "better"], ["move", "1.0.0", null]]);
      assert.deepEqual(await json(await call(service.app, "GET", "/api/v1/models/dengue/aliases"), 200), { champion: "1.0.0", production: "1.0.0" });
      await problem(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/production", { version: "7.0.0" }), 404);
      await problem(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/production", {}), 422);
      await problem(await call(service.app, "POST", "/api/v1/models/dengue/aliases/nobody/$rollback"), 404);
    });

    test("deprecating a version marks it and lists it by status", async () => {
      const version = await json(await call(service.app, "POST", "/api/v1/models/base/versions/1.0.0/$deprecate"), 200);
      assert.equal(version.status, "deprecated");
      const deprecated = await json<Json[]>(await call(service.app, "GET", "/api/v1/models/base/versions?status=deprecated"), 200);
      assert.deepEqual(deprecated.map((v) => v.version), ["1.0.0"]);
      await problem(await call(service.app, "GET", "/api/v1/models/base/versions?status=gone"), 400);
      await problem(await call(service.app, "GET", "/api/v1/models/nothing"), 404);
    });

    test("alias moves, trainings and predictions are published on the event bus", async () => {
      const seen: { type: string; entity: Json }[] = [];
      const stop = service.app.chapkit.context.events.subscribe(
        { types: ["model.promoted", "ml.trained", "ml.predicted"] },
        (event) => void seen.push({ type: event.type, entity: event.data.entity as Json }),
      );
      try {
        await json(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/events", { version: "1.0.0" }), 200);
        const configId = await createConfig(service.app, "evented", { offset: 2 });
        await trainVersion(service, configId, "evented");
        await predicted(service, { model: "evented@1.0.0" });
        // The bus delivers after the answers: wait for all three (a loaded machine can take longer than a moment).
        for (let waited = 0; waited < 10_000 && ["model.promoted", "ml.trained", "ml.predicted"].some((type) => !seen.some((e) => e.type === type)); waited += 25) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        const promoted = seen.find((e) => e.type === "model.promoted");
        assert.deepEqual([promoted?.entity.alias, promoted?.entity.to_version], ["events", "1.0.0"]);
        assert.deepEqual([seen.find((e) => e.type === "ml.trained")?.entity.model_name, seen.find((e) => e.type === "ml.trained")?.entity.model_version], ["evented", "1.0.0"]);
        assert.equal(seen.find((e) => e.type === "ml.predicted")?.entity.model_version, "1.0.0");
      } finally {
        stop();
      }
    });

    test("a route policy changes over HTTP: sticky 80/20 split by header, shadow stored and reported, never returned", async () => {
      await json(await call(service.app, "PUT", "/api/v1/models/dengue/aliases/challenger", { version: "1.1.0" }), 200);
      const policy = await json(await call(service.app, "PUT", "/api/v1/models/dengue/route", {
        split: [{ target: "champion", weight: 80 }, { target: "challenger", weight: 20 }],
        sticky_by: "header:x-user",
        shadow: { target: "challenger" },
      }), 200);
      assert.equal(policy.name, "dengue");
      const chosen: string[] = [];
      for (const user of ["ana", "bo", "cy", "di"]) {
        const first = await predicted(service, { model: "dengue" });
        chosen.push(String(first.model_version));
        const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "dengue", future: FUTURE }, { "x-user": user }), 202);
        await finished(service.app, String(answer.job_id));
        const again = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "dengue", future: FUTURE }, { "x-user": user }), 202);
        await finished(service.app, String(again.job_id));
        const a = (await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200)).data as Json;
        const b = (await json(await call(service.app, "GET", `/api/v1/artifacts/${again.prediction_artifact_id}`), 200)).data as Json;
        assert.equal(a.model_version, b.model_version, `user ${user} stays on one version`);
        assert.ok(String(a.route_arm).startsWith("split:"));
      }
      await service.app.chapkit.context.get<ModelServer>(MODEL_SERVER_KEY).settled();
      const report = await json(await call(service.app, "GET", "/api/v1/models/dengue/route/$report"), 200);
      const shadow = report.shadow as Json;
      assert.ok(Number(shadow.pairs) >= 1, "champion answers were shadowed by the challenger");
      const byPair = shadow.by_pair as Json[];
      assert.ok(byPair.every((pair) => pair.shadow_version !== pair.primary_version));
      const columns = shadow.columns as Record<string, Json>;
      assert.equal(columns.sample_0?.mean_abs_diff, 1, "the challenger predicts one more than the champion");
      assert.ok((report.versions as Json[]).some((v) => v.version === "1.0.0" && Number(v.requests) > 0));
      await problem(await call(service.app, "PUT", "/api/v1/models/dengue/route", { split: [{ target: "gone", weight: 1 }] }), 404);
      await problem(await call(service.app, "PUT", "/api/v1/models/dengue/route", { sticky_by: "cookie" }), 422);
      assert.deepEqual((await json(await call(service.app, "GET", "/api/v1/models/dengue/route"), 200)).sticky_by, "header:x-user");
    });
  });
}
