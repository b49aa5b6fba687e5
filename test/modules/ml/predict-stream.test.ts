import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DataFrame } from "../../../src/modules/ml/engine/dataframe.ts";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { runPredictStream } from "../../../src/modules/ml/engine/predict-stream.ts";
import { serve, type RunningServer } from "../../../src/runtime/serve.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { call, createConfig, gate, json, type Json, type MlService, openMlService, problem, trainedModel } from "./_support.ts";

const TRAINING = { columns: ["x", "y"], data: [[1, 2], [2, 4], [3, 6]] };
const FUTURE = { columns: ["x"], data: [[1], [2], [3], [4]] };

// Yields the first two rows at once, then holds the rest until the test opens `held`
// (or the request is canceled, which the runner records).
let held = gate();
let aborted = false;
let cleanedUp = 0;
const runner = functionalRunner<Record<string, unknown>, { slope: number }>({
  onTrain: ({ data }) => ({ slope: data.column("y")[0]! / data.column("x")[0]! }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((v) => model.slope * v)),
  async *onPredictStream({ model, future, signal }) {
    const x = future.column("x");
    yield DataFrame.fromColumns({ x: x.slice(0, 2), sample_0: x.slice(0, 2).map((v) => model.slope * v) });
    const canceled = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([held.promise, canceled]);
    if (signal.aborted) {
      aborted = true;
      return;
    }
    for (let i = 2; i < x.length; i++) yield { x: x[i]!, sample_0: model.slope * x[i]! };
    if (future.has("fail")) throw new RangeError("the model cannot go on");
  },
});
Object.assign(runner, { onCleanup: () => void (cleanedUp += 1) });

const decoder = new TextDecoder();

/** Reads NDJSON lines from a body until `count` lines have arrived (or the body ends). */
async function lines(reader: ReadableStreamDefaultReader<Uint8Array>, buffer: { text: string }, count: number): Promise<Json[]> {
  const out: Json[] = [];
  for (;;) {
    let at = buffer.text.indexOf("\n");
    while (at >= 0 && out.length < count) {
      out.push(JSON.parse(buffer.text.slice(0, at)) as Json);
      buffer.text = buffer.text.slice(at + 1);
      at = buffer.text.indexOf("\n");
    }
    if (out.length >= count) return out;
    const { done, value } = await reader.read();
    if (done) return out;
    buffer.text += decoder.decode(value, { stream: true });
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test("runPredictStream streams a plain runner's predictions in one chunk, between onInit and onCleanup", async () => {
  const calls: string[] = [];
  const plain = functionalRunner<Record<string, unknown>, number>({
    onTrain: () => 2,
    onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((v) => model * v)),
  });
  Object.assign(plain, { onInit: () => void calls.push("init"), onCleanup: () => void calls.push("cleanup") });
  const chunks = [];
  for await (const chunk of runPredictStream(plain, {
    config: {}, model: { value: 2 }, historic: null, future: DataFrame.fromJSON(FUTURE), geo: null, signal: new AbortController().signal,
  })) chunks.push(chunk);
  assert.deepEqual(chunks, [[{ x: 1, sample_0: 2 }, { x: 2, sample_0: 4 }, { x: 3, sample_0: 6 }, { x: 4, sample_0: 8 }]]);
  assert.deepEqual(calls, ["init", "cleanup"]);
});

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`$predict-stream on ${store.name}`, () => {
    let service: MlService;
    let server: RunningServer;
    let modelId: string;
    let base: string;
    const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${base}/api/v1/ml/$predict-stream`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });

    before(async () => {
      service = await openMlService(store, runner);
      server = await serve((request) => service.app.handle(request), { port: 0 });
      base = `http://127.0.0.1:${server.port}`;
      modelId = await trainedModel(service.app, await createConfig(service.app, "stream"), TRAINING);
    });
    after(async () => {
      await server.stop(1000);
      await service.close();
      await store.cleanup();
    });

    test("answers the first rows over a real socket before the runner has produced the last", async () => {
      held = gate();
      const response = await post({ model_artifact_id: modelId, future: FUTURE });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/x-ndjson");
      const reader = response.body!.getReader();
      const buffer = { text: "" };
      const first = await within(lines(reader, buffer, 2), 10_000, "the first two rows did not arrive").catch((error) => {
        held.open();
        throw error;
      });
      assert.deepEqual(first, [{ x: 1, sample_0: 2 }, { x: 2, sample_0: 4 }], "read while the runner still holds rows 3 and 4");
      held.open();
      assert.deepEqual(await lines(reader, buffer, 10), [{ x: 3, sample_0: 6 }, { x: 4, sample_0: 8 }]);
    });

    test("answers server-sent events with Accept: text/event-stream: a row event per row, then end", async () => {
      held = gate();
      held.open();
      const response = await post({ model_artifact_id: modelId, future: FUTURE }, { accept: "text/event-stream" });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const events = (await response.text()).split("\n\n").filter((block) => block.startsWith("event:"));
      assert.deepEqual(events, [
        'event: row\nid: 0\ndata: {"x":1,"sample_0":2}',
        'event: row\nid: 1\ndata: {"x":2,"sample_0":4}',
        'event: row\nid: 2\ndata: {"x":3,"sample_0":6}',
        'event: row\nid: 3\ndata: {"x":4,"sample_0":8}',
        'event: end\ndata: {"rows":4}',
      ]);
    });

    test("a runner failing after the first rows ends the stream with a $error problem line", async () => {
      held = gate();
      held.open();
      const future = { columns: ["x", "fail"], data: [[1, 0], [2, 0], [3, 0]] };
      const response = await post({ model_artifact_id: modelId, future });
      const body = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as Json);
      assert.equal(body.length, 4);
      const error = body[3]!.$error as Json;
      assert.equal(error.status, 500);
      assert.equal(error.detail, "RangeError: the model cannot go on");
    });

    test("a client that goes away cancels the runner and cleans up", async () => {
      held = gate();
      aborted = false;
      const before = cleanedUp;
      const response = await post({ model_artifact_id: modelId, future: FUTURE });
      const reader = response.body!.getReader();
      await within(lines(reader, { text: "" }, 2), 10_000, "the first rows did not arrive");
      await reader.cancel();
      const deadline = Date.now() + 10_000;
      while (!(aborted && cleanedUp > before)) {
        if (Date.now() > deadline) {
          held.open();
          assert.fail(`runner aborted=${aborted}, cleaned up ${cleanedUp - before} times`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });

    test("bad requests get problems before any row: unknown model 404, bad frame 422, no model 422", async () => {
      const unknown = await call(service.app, "POST", "/api/v1/ml/$predict-stream", { model_artifact_id: "01K0000000000000000000000Z", future: FUTURE });
      await problem(unknown, 404, "urn:chapkit:error:not-found");
      const ragged = await call(service.app, "POST", "/api/v1/ml/$predict-stream", { model_artifact_id: modelId, future: { columns: ["x"], data: [[1, 2]] } });
      const body = await problem(ragged, 422, "urn:chapkit:error:validation-failed");
      assert.deepEqual((body.errors as { loc: unknown[] }[])[0]!.loc, ["body", "future", "data", 0]);
      await problem(await call(service.app, "POST", "/api/v1/ml/$predict-stream", { future: FUTURE }), 422, "urn:chapkit:error:validation-failed");
    });

    test("names a registered model like $predict", async () => {
      held = gate();
      held.open();
      const models = await json<Json[]>(await call(service.app, "GET", "/api/v1/models"), 200);
      const name = String(models[0]!.name);
      const response = await post({ model: name, future: FUTURE });
      const rows = (await response.text()).trim().split("\n");
      assert.equal(rows.length, 4);
    });
  });
}
