import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { createHash } from "node:crypto";
import type { ArtifactManager } from "../../../src/modules/artifact/manager.ts";
import { ARTIFACTS_KEY } from "../../../src/modules/artifact/mod.ts";
import { BASE, call, createConfig, finished, json, type Json, type MlService, openMlService, problem, running, trainedModel } from "./_support.ts";

const TRAINING = { columns: ["x", "y"], data: [[1, 2], [2, 4], [3, 6]] };
const VALIDATION = "urn:chapkit:error:validation-failed";

let chunkSizes: number[] = [];
const runner = functionalRunner<Record<string, unknown>, { slope: number }>({
  onTrain: ({ data }) => ({ slope: data.column("y")[0]! / data.column("x")[0]! }),
  onPredict: async ({ config, model, future, signal }) => {
    chunkSizes.push(future.rowCount);
    if (config.hold === "abort" && chunkSizes.length > 1) {
      // The second chunk waits until the job is canceled.
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    }
    return future.withColumn("sample_0", future.column("x").map((v) => model.slope * v));
  },
});

const csvOf = (rows: number): string => "id,x\n" + Array.from({ length: rows }, (_, i) => `r${i},${i}`).join("\n") + "\n";
const ndjsonOf = (rows: number): string => Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, x: i })).join("\n") + "\n";

function upload(service: MlService, path: string, text: string, contentType: string): Promise<Response> {
  return service.app.handle(new Request(`${BASE}${path}`, { method: "POST", headers: { "content-type": contentType }, body: text }));
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`$batch-predict on ${store.name}`, () => {
    let service: MlService;
    let modelId: string;
    before(async () => {
      service = await openMlService(store, runner);
      modelId = await trainedModel(service.app, await createConfig(service.app, "batch"), TRAINING);
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    async function completed(answer: Json): Promise<Json> {
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
      assert.equal(record.artifact_id, answer.result_artifact_id);
      return record as unknown as Json;
    }

    const download = async (id: unknown): Promise<Response> => call(service.app, "GET", `/api/v1/artifacts/${id}/$download`);

    test("predicts a CSV upload in chunks through a job and writes a downloadable CSV result under the model", async () => {
      chunkSizes = [];
      const answer = await json(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}&chunk_rows=1000`, csvOf(2500), "text/csv"), 202);
      assert.deepEqual(Object.keys(answer).sort(), ["job_id", "message", "result_artifact_id", "rows"]);
      assert.equal(answer.rows, 2500);
      const record = await completed(answer);
      assert.equal(record.progress, 1);
      assert.equal(record.progress_message, "2500 rows predicted");
      assert.deepEqual(chunkSizes, [1000, 1000, 500]);
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.result_artifact_id}`), 200);
      assert.equal(artifact.parent_id, modelId);
      const data = artifact.data as Json;
      assert.equal(data.ml_type, "batch_prediction");
      assert.equal(data.rows, 2500);
      assert.equal(data.format, "csv");
      const response = await download(answer.result_artifact_id);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/csv/);
      const lines = (await response.text()).trimEnd().split("\n");
      assert.equal(lines[0], "id,x,sample_0");
      assert.equal(lines.length, 2501);
      assert.equal(lines[1], "r0,0,0.0");
      assert.equal(lines[2500], "r2499,2499,4998.0");
    });

    test("predicts an NDJSON upload and writes NDJSON, or CSV with format=csv", async () => {
      const same = await json(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}`, ndjsonOf(3), "application/x-ndjson"), 202);
      await completed(same);
      const rows = (await (await download(same.result_artifact_id)).text()).trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(rows, [{ id: "r0", x: 0, sample_0: 0 }, { id: "r1", x: 1, sample_0: 2 }, { id: "r2", x: 2, sample_0: 4 }]);
      const csv = await json(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}&format=csv`, ndjsonOf(2), "application/x-ndjson"), 202);
      await completed(csv);
      assert.equal(await (await download(csv.result_artifact_id)).text(), "id,x,sample_0\nr0,0,0.0\nr1,1,2.0\n");
    });

    test("predicts from an input artifact named in JSON, and lineage links input, model and result both ways", async () => {
      const input = await json(await upload(service, "/api/v1/artifacts/$upload", csvOf(10), "text/csv"), 201);
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$batch-predict", { model_artifact_id: modelId, input_artifact_id: input.id, format: "ndjson" }), 202);
      assert.equal(answer.rows, null);
      await completed(answer);
      const lines = (await (await download(answer.result_artifact_id)).text()).trimEnd().split("\n");
      assert.equal(lines.length, 10);
      const up = await json<{ upstream: Json[]; edges: Json[] }>(await call(service.app, "GET", `/api/v1/artifacts/${answer.result_artifact_id}/$lineage`), 200);
      const ids = up.upstream.map((node) => node.id);
      assert.ok(ids.includes(`artifact:${input.id}`) && ids.includes(`artifact:${modelId}`), JSON.stringify(ids));
      const down = await json<{ downstream: Json[] }>(await call(service.app, "GET", `/api/v1/artifacts/${input.id}/$lineage`), 200);
      assert.deepEqual(down.downstream.map((node) => [node.artifact_id, node.kind]), [[answer.result_artifact_id, "batch_prediction"]]);
    });

    test("names a registered model in the query like $predict", async () => {
      const models = await json<Json[]>(await call(service.app, "GET", "/api/v1/models"), 200);
      const answer = await json(await upload(service, `/api/v1/ml/$batch-predict?model=${models[0]!.name}`, csvOf(3), "text/csv"), 202);
      await completed(answer);
      const data = (await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.result_artifact_id}`), 200)).data as Json;
      assert.equal(data.model_name, models[0]!.name);
    });

    test("each chunk is checked against the model's signature: a row out of range fails the job", async () => {
      const signature = { inputs: [{ name: "x", type: "number", minimum: 0 }], outputs: [{ name: "sample_0", type: "number" }] };
      const trained = await json(await call(service.app, "POST", "/api/v1/ml/$train", {
        config_id: await createConfig(service.app, "signed-batch"),
        data: TRAINING,
        signature,
      }), 202);
      assert.equal((await finished(service.app, String(trained.job_id))).status, "completed");
      const path = `/api/v1/ml/$batch-predict?model_artifact_id=${trained.model_artifact_id}&chunk_rows=2`;
      const good = await json(await upload(service, path, csvOf(5), "text/csv"), 202);
      await completed(good);
      const bad = await json(await upload(service, path, "id,x\nr0,1\nr1,2\nr2,-5\n", "text/csv"), 202);
      const record = await finished(service.app, String(bad.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /x/);
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${bad.result_artifact_id}`), 404);
    });

    test("a canceled batch job stores no result and releases its input", async () => {
      const held = await trainedModel(service.app, await createConfig(service.app, "held", { hold: "abort" }), TRAINING);
      const text = csvOf(30) + "r-held,1\n";
      const digest = createHash("sha256").update(text).digest("hex");
      chunkSizes = [];
      const answer = await json(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${held}&chunk_rows=10`, text, "text/csv"), 202);
      const content = service.app.chapkit.context.get<ArtifactManager>(ARTIFACTS_KEY).content;
      await running(service.app, String(answer.job_id));
      const deadline = Date.now() + 10_000;
      while (chunkSizes.length < 2) {
        assert.ok(Date.now() < deadline, "the second chunk never started");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await content.info(digest))?.refcount, 1, "held while the job runs");
      const canceled = await json(await call(service.app, "POST", `/api/v1/jobs/${answer.job_id}/$cancel`), 200);
      assert.equal(canceled.status, "canceled");
      while ((await content.info(digest))?.refcount !== 0) {
        assert.ok(Date.now() < deadline, "the input was not released");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${answer.result_artifact_id}`), 404);
    });

    test("a ragged CSV upload answers 422 listing each bad row", async () => {
      const body = await problem(
        await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}`, "id,x\nr0,1\nr1\nr2,2\nr3,3,3\n", "text/csv"),
        422,
        VALIDATION,
      );
      assert.deepEqual((body.errors as { loc: unknown[] }[]).map((e) => e.loc), [["body", "rows", 1], ["body", "rows", 3]]);
      assert.match(String(body.detail), /not a valid CSV table/);
    });

    test("an NDJSON upload with a line that is not a JSON object answers 422 at that row", async () => {
      const body = await problem(
        await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}`, '{"x":1}\n{"x":\n', "application/x-ndjson"),
        422,
        VALIDATION,
      );
      assert.deepEqual((body.errors as { loc: unknown[] }[]).map((e) => e.loc), [["body", "rows", 1]]);
    });

    test("an empty upload answers 422, another media type 415", async () => {
      await problem(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}`, "", "text/csv"), 422, VALIDATION);
      await problem(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}`, "x\n1\n", "application/octet-stream"), 415);
    });

    test("the model is checked before the upload: none 422, unknown 404, bad chunk_rows 422", async () => {
      const none = await problem(await upload(service, "/api/v1/ml/$batch-predict", csvOf(1), "text/csv"), 422, VALIDATION);
      assert.deepEqual((none.errors as { loc: unknown[] }[])[0]!.loc, ["query", "model_artifact_id"]);
      await problem(await upload(service, "/api/v1/ml/$batch-predict?model_artifact_id=01K0000000000000000000000Z", csvOf(1), "text/csv"), 404);
      await problem(await upload(service, `/api/v1/ml/$batch-predict?model_artifact_id=${modelId}&chunk_rows=0`, csvOf(1), "text/csv"), 422, VALIDATION);
    });

    test("an input artifact without a CSV or NDJSON payload answers 422; an unknown one 404", async () => {
      const other = await json(await upload(service, "/api/v1/artifacts/$upload", "\u0000\u0001", "application/octet-stream"), 201);
      const body = await problem(
        await call(service.app, "POST", "/api/v1/ml/$batch-predict", { model_artifact_id: modelId, input_artifact_id: other.id }),
        422,
        VALIDATION,
      );
      assert.deepEqual((body.errors as { loc: unknown[] }[])[0]!.loc, ["body", "input_artifact_id"]);
      await problem(
        await call(service.app, "POST", "/api/v1/ml/$batch-predict", { model_artifact_id: modelId, input_artifact_id: "01K0000000000000000000000Z" }),
        404,
      );
    });
  });
}
