import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import type { ArtifactManager } from "../../../src/modules/artifact/manager.ts";
import { ARTIFACTS_KEY } from "../../../src/modules/artifact/mod.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { call, createConfig, finished, json, type Json, type MlService, openMlService, problem } from "./_support.ts";

const TRAINING = { columns: ["x", "y"], data: [[1, 2], [2, 4], [3, 6]] };
const FUTURE = { columns: ["x"], data: [[10], [20]] };

const runner = functionalRunner<Record<string, unknown>, { slope: number }>({
  codeVersion: "slope-model 2.1.0",
  onTrain: ({ data }) => {
    const x = data.column("x");
    const y = data.column("y");
    return { slope: y.reduce((sum, v, i) => sum + v / x[i]!, 0) / y.length };
  },
  onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((v) => model.slope * v)),
});

const digestOf = (value: unknown): string => `sha256:${createHash("sha256").update(JSON.stringify(value)).digest("hex")}`;

interface Node extends Json {
  id: string;
  type: string;
}
interface Graph {
  artifact: Node;
  upstream: Node[];
  downstream: Node[];
  edges: { from: string; to: string; role: string }[];
  truncated: boolean;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`data versioning and lineage on ${store.name}`, () => {
    let service: MlService;
    let artifacts: ArtifactManager;
    let configId: string;
    let first: Json;
    let second: Json;

    async function trained(model: string): Promise<Json> {
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: TRAINING, model }), 202);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
      return answer;
    }

    async function predicted(modelArtifactId: string): Promise<Json> {
      const body = { model_artifact_id: modelArtifactId, future: FUTURE };
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", body), 202);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
      return answer;
    }

    const lineage = async (id: string, query = ""): Promise<Graph> =>
      json<Graph>(await call(service.app, "GET", `/api/v1/artifacts/${id}/$lineage${query}`), 200);

    before(async () => {
      service = await openMlService(store, runner);
      artifacts = service.app.chapkit.context.get<ArtifactManager>(ARTIFACTS_KEY);
      configId = await createConfig(service.app, "slope", { smoothing: 3 });
      first = await trained("slope");
      second = await trained("slope");
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("training data is stored once, by its SHA-256, however many models read it", async () => {
      const digest = digestOf(TRAINING);
      const info = await artifacts.content.info(digest.slice("sha256:".length));
      assert.ok(info, "the training data is in the content store");
      assert.equal(info.size, JSON.stringify(TRAINING).length);
      assert.equal(info.refcount, 2, "held once by each model's lineage");
      const versions = await json<Json[]>(await call(service.app, "GET", "/api/v1/models/slope/versions"), 200);
      assert.deepEqual(versions.map((v) => v.data_hash), [digest, digest]);
    });

    test("a model's lineage names its data, config snapshot, code version and registry version", async () => {
      const graph = await lineage(String(first.model_artifact_id));
      assert.equal(graph.artifact.kind, "trained_model");
      assert.equal(graph.artifact.model_name, "slope");
      assert.equal(graph.artifact.model_version, "1.0.0");
      assert.equal(graph.artifact.job_id, first.job_id);
      const byType = (type: string): Node[] => graph.upstream.filter((node) => node.type === type);
      assert.deepEqual(byType("data").map((n) => n.digest), [digestOf(TRAINING)]);
      assert.deepEqual(byType("config").map((n) => [n.digest, n.config_id]), [[digestOf({ smoothing: 3 }), configId]]);
      assert.deepEqual(byType("code").map((n) => [n.service_version, n.runner_version]), [["1.0.0", "slope-model 2.1.0"]]);
      const to = `artifact:${first.model_artifact_id}`;
      assert.deepEqual(
        graph.edges.filter((e) => e.to === to).map((e) => e.role).sort(),
        ["code", "config", "data"],
      );
      assert.equal(graph.truncated, false);
    });

    test("a prediction's lineage walks upstream through its model to the training data", async () => {
      const answer = await predicted(String(first.model_artifact_id));
      const graph = await lineage(String(answer.prediction_artifact_id));
      assert.equal(graph.artifact.kind, "prediction");
      const ids = graph.upstream.map((node) => node.id);
      assert.ok(ids.includes(`artifact:${first.model_artifact_id}`));
      assert.ok(ids.includes(`data:${digestOf(FUTURE)}`), "the predict input");
      assert.ok(ids.includes(`data:${digestOf(TRAINING)}`), "the model's training data, two hops up");
      assert.deepEqual(
        graph.edges.find((e) => e.from === `artifact:${first.model_artifact_id}`),
        { from: `artifact:${first.model_artifact_id}`, to: `artifact:${answer.prediction_artifact_id}`, role: "model" },
      );
      assert.deepEqual(graph.downstream, []);
    });

    test("a model's lineage walks downstream to every prediction made with it", async () => {
      const one = await predicted(String(second.model_artifact_id));
      const two = await predicted(String(second.model_artifact_id));
      const graph = await lineage(String(second.model_artifact_id));
      assert.deepEqual(graph.downstream.map((node) => node.artifact_id), [one.prediction_artifact_id, two.prediction_artifact_id]);
      assert.ok(graph.downstream.every((node) => node.kind === "prediction" && node.exists === true));
    });

    test("depth bounds the walk and says so", async () => {
      const answer = await predicted(String(first.model_artifact_id));
      const graph = await lineage(String(answer.prediction_artifact_id), "?depth=1");
      const ids = graph.upstream.map((node) => node.id);
      assert.ok(ids.includes(`artifact:${first.model_artifact_id}`));
      assert.ok(!ids.includes(`data:${digestOf(TRAINING)}`));
      assert.equal(graph.truncated, true);
    });

    test("deleting a prediction forgets its lineage and releases its inputs", async () => {
      const answer = await predicted(String(first.model_artifact_id));
      const future = digestOf(FUTURE).slice("sha256:".length);
      const before = (await artifacts.content.info(future))!.refcount;
      const response = await call(service.app, "DELETE", `/api/v1/artifacts/${answer.prediction_artifact_id}`);
      assert.equal(response.status, 204);
      const deadline = Date.now() + 5000;
      while ((await artifacts.content.info(future))!.refcount !== before - 1) {
        assert.ok(Date.now() < deadline, "the input was not released");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const graph = await lineage(String(first.model_artifact_id));
      assert.ok(!graph.downstream.some((node) => node.artifact_id === answer.prediction_artifact_id));
    });

    test("an ensemble's lineage names its members' models upstream, and a prediction with it reaches their data", async () => {
      const version = await json(await call(service.app, "POST", "/api/v1/ml/$ensemble", {
        model: "slopes", method: "mean", members: [{ model: "slope@1.0.0" }, { model: "slope@1.1.0" }],
      }), 201);
      const graph = await lineage(String(version.artifact_id));
      const members = graph.edges.filter((e) => e.role === "member").map((e) => e.from).sort();
      assert.deepEqual(members, [`artifact:${first.model_artifact_id}`, `artifact:${second.model_artifact_id}`].sort());
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "slopes", future: FUTURE }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      const ids = (await lineage(String(answer.prediction_artifact_id))).upstream.map((node) => node.id);
      assert.ok(ids.includes(`artifact:${version.artifact_id}`) && ids.includes(`data:${digestOf(TRAINING)}`), JSON.stringify(ids));
    });

    test("an unknown artifact answers a 404 problem, a bad depth a 422 problem", async () => {
      await problem(await call(service.app, "GET", "/api/v1/artifacts/01K0000000000000000000000Z/$lineage"), 404, "urn:chapkit:error:not-found");
      await problem(
        await call(service.app, "GET", `/api/v1/artifacts/${first.model_artifact_id}/$lineage?depth=0`),
        422,
        "urn:chapkit:error:validation-failed",
      );
    });
  });
}
