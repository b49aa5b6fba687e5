import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { call } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { eventually, gate, jobsApp, type JobsApp } from "./_support.ts";

/** The `data:` payloads of an event stream, parsed. */
function events(text: string): Record<string, unknown>[] {
  return text.split("\n\n").filter((block) => block.startsWith("data: ")).map((block) =>
    JSON.parse(block.slice("data: ".length)) as Record<string, unknown>
  );
}

/**
 * Reads an event stream to its end, calling `afterFirst` once the first event has arrived, so a
 * test acts mid-stream however late the first poll runs.
 */
async function readStream(response: Response, afterFirst: () => unknown): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let first = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
    if (!first && text.includes("\n\n")) {
      first = true;
      await afterFirst();
    }
  }
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`job progress and $stream on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    let runner: JobRunner;

    let service: JobsApp;

    before(async () => {
      service = await jobsApp(store, { maxConcurrency: 4 });
      ({ app, db, runner } = service);
    });
    after(() => service.close());

    test("a job's progress shows in its record; a job that reports none keeps the eight keys", async () => {
      const hold = gate();
      const id = await runner.submit(async ({ progress }) => {
        await progress(0.25, "loading");
        await progress(0.5, "training");
        await hold.promise;
      });
      await eventually(async () => (await runner.get(id)).progress === 0.5);
      const body = await (await call(app, "GET", `/api/v1/jobs/${id}`)).json() as Record<string, unknown>;
      assert.equal(body.progress, 0.5);
      assert.equal(body.progress_message, "training");
      assert.deepEqual(Object.keys(body).slice(0, 8), [
        "id", "status", "submitted_at", "started_at", "finished_at", "error", "error_traceback", "artifact_id",
      ]);
      hold.open();
      const plain = await runner.submit(() => 1);
      assert.equal(Object.keys(await runner.wait(plain, 10_000)).length, 8);
    });

    test("progress outside 0..1 throws a RangeError in the job, which fails it", async () => {
      const id = await runner.submit(({ progress }) => progress(1.5));
      const record = await runner.wait(id, 10_000);
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /^RangeError: Job progress must be a number from 0 to 1/);
    });

    test("$stream sends the record at once, progress as it moves, and closes after the finished record", async () => {
      const step = gate();
      const id = await runner.submit(async ({ progress }) => {
        await progress(0.5, "half");
        await step.promise;
        return newUlid();
      });
      await eventually(async () => (await runner.get(id)).progress === 0.5);
      const response = await call(app, "GET", `/api/v1/jobs/${id}/$stream?poll_interval=0.02`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(response.headers.get("cache-control"), "no-cache");
      assert.equal(response.headers.get("connection"), "keep-alive");
      assert.equal(response.headers.get("x-accel-buffering"), "no");
      const sent = events(await readStream(response, () => step.open()));
      assert.equal(sent[0]!.status, "running");
      assert.equal(sent[0]!.progress, 0.5);
      assert.equal(sent[0]!.progress_message, "half");
      const last = sent.at(-1)!;
      assert.equal(last.status, "completed");
      assert.match(String(last.artifact_id), /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      assert.ok(sent.slice(0, -1).every((event) => event.status === "running"));
    });

    test("$stream of a finished job sends one event and closes", async () => {
      const id = await runner.submit(() => 1);
      await runner.wait(id, 10_000);
      const sent = events(await (await call(app, "GET", `/api/v1/jobs/${id}/$stream`)).text());
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.status, "completed");
      assert.equal(sent[0]!.id, id);
    });

    test("$stream of a job deleted mid-stream sends {\"status\": \"deleted\"} and closes", async () => {
      const id = await runner.submit(({ signal }) => new Promise((resolve) => signal.addEventListener("abort", resolve)));
      await eventually(async () => (await runner.get(id)).status === "running");
      const response = await call(app, "GET", `/api/v1/jobs/${id}/$stream?poll_interval=0.02`);
      // Removed by another instance: the stream sees it gone without a canceled record first.
      const text = await readStream(response, () => db.exec("DELETE FROM jobs WHERE id = ?", [id]));
      assert.ok(text.endsWith('data: {"status": "deleted"}\n\n'), text);
      assert.ok(!text.includes('"canceled"'));
    });

    test("$stream of a malformed id is a 400 problem and of an unknown id a 404, before streaming", async () => {
      const malformed = await call(app, "GET", "/api/v1/jobs/not-a-ulid/$stream");
      assert.equal(malformed.status, 400);
      assert.match(malformed.headers.get("content-type") ?? "", /problem\+json/);
      const unknown = await call(app, "GET", `/api/v1/jobs/${newUlid()}/$stream`);
      assert.equal(unknown.status, 404);
      assert.equal((await unknown.json() as { detail: string }).detail, "Job not found");
    });

    test("$stream with a poll_interval that is not a positive number is a 422 naming it", async () => {
      const id = await runner.submit(() => 1);
      for (const value of ["0", "-1", "abc", "7200"]) {
        const response = await call(app, "GET", `/api/v1/jobs/${id}/$stream?poll_interval=${value}`);
        assert.equal(response.status, 422, value);
        const body = await response.json() as { errors: { loc: unknown[] }[] };
        assert.deepEqual(body.errors[0]!.loc, ["query", "poll_interval"]);
      }
    });
  });
}
