import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NotFoundError } from "../../../src/core/errors.ts";
import { describeJobError } from "../../../src/modules/jobs/job-error.ts";
import { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { jobInterruptedError } from "../../../src/modules/jobs/job-store.ts";
import { isFinishedStatus, JOB_STATUSES } from "../../../src/modules/jobs/types.ts";
import { memoryJobStore } from "../../../src/modules/jobs/memory-store.ts";
import { newUlid } from "../../../src/core/ulid.ts";

describe("job errors", () => {
  test("an error is '<ErrorName>: <message>'", () => {
    assert.equal(describeJobError(new RangeError("out of range")).error, "RangeError: out of range");
  });

  test("a multi-line message keeps only its last line in error, as Python's traceback does; the stack keeps everything", () => {
    const fields = describeJobError(new Error("Training script failed with exit code 1:\nKeyError: humidity\n"));
    assert.equal(fields.error, "KeyError: humidity");
    assert.match(fields.error_traceback, /Training script failed with exit code 1:/);
    assert.match(fields.error_traceback, /\n\s+at /);
  });

  test("chapkit errors keep their class name", () => {
    assert.equal(describeJobError(new NotFoundError("Task X not found")).error, "NotFoundError: Task X not found");
  });

  test("an empty message leaves just the name; thrown non-errors are described", () => {
    assert.equal(describeJobError(new TypeError("")).error, "TypeError");
    assert.equal(describeJobError("plain").error, "Error: plain");
    assert.equal(describeJobError({ code: 7 }).error, 'Error: {"code":7}');
    assert.equal(describeJobError(undefined).error, "Error: undefined");
  });

  test("the interrupted error names the owner and says interrupted", () => {
    assert.equal(
      jobInterruptedError("01K7"),
      "JobInterrupted: Job was interrupted: its instance 01K7 stopped before it finished",
    );
  });

  test("statuses finish in completed, failed or canceled", () => {
    assert.deepEqual(JOB_STATUSES.filter(isFinishedStatus), ["completed", "failed", "canceled"]);
  });
});

describe("in-process runner on the memory job store", () => {
  test("runs a job to completion and forgets nothing until deleted", async () => {
    const runner = new InProcessJobRunner({ store: await memoryJobStore(), maxConcurrency: 1 });
    await runner.start();
    try {
      const artifact = newUlid();
      const id = await runner.submit(() => artifact);
      const record = await runner.wait(id, 10_000);
      assert.equal(record.status, "completed");
      assert.equal(record.artifact_id, artifact);
      assert.deepEqual((await runner.list({ status: "completed" })).map((job) => job.id), [id]);
      await runner.delete(id);
      await assert.rejects(runner.get(id), NotFoundError);
    } finally {
      await runner.close();
    }
  });

  test("start-up fails jobs whose lease expired in the memory store", async () => {
    const store = await memoryJobStore();
    const id = newUlid();
    await store.insert({
      id,
      status: "running",
      submitted_at: "2020-01-01T00:00:00.000Z",
      started_at: "2020-01-01T00:00:00.000Z",
      finished_at: null,
      error: null,
      error_traceback: null,
      artifact_id: null,
    }, { owner: "gone", ownerKey: null, heartbeatAt: "2020-01-01T00:00:00.000Z" });
    const runner = new InProcessJobRunner({ store });
    const swept = await runner.start();
    try {
      assert.deepEqual(swept.map((job) => job.id), [id]);
      assert.equal((await runner.get(id)).error, jobInterruptedError("gone"));
    } finally {
      await runner.close();
    }
  });
});
