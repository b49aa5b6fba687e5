/**
 * Jobs pause while PostgreSQL is unreachable (a real server behind a TCP
 * proxy that the test cuts): claims, completions and heartbeats are retried
 * when the store returns, results are not lost, leases are renewed unless
 * another instance took the job over, and no job fails because of the outage.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import postgres from "postgres";
import type { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { createLogger } from "../../../src/core/logging.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { DATABASE_URL } from "../../_support/stores.ts";
import { databaseUrlAt, postgresProxy } from "../../db/_tcp-proxy.ts";
import { eventually, gate, runnerOn } from "./_support.ts";

const schema = `chapkit_jobs_outage_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

describe("jobs while PostgreSQL is away", () => {
  const proxy = postgresProxy();
  const events: string[] = [];
  const logger = createLogger({ format: "json", level: "debug", write: (line) => events.push(JSON.parse(line).event) });
  let db: Driver;
  let direct: postgres.Sql;
  let runner: InProcessJobRunner;

  const heartbeatOf = async (id: string): Promise<number> => {
    const rows = await direct.unsafe(`SELECT heartbeat_at FROM "${schema}".jobs WHERE id = $1`, [id]);
    return new Date(rows[0]!.heartbeat_at as string).getTime();
  };

  /** Cuts the store and waits until the runner has met the outage. */
  const cutUntilNoticed = async (): Promise<void> => {
    events.length = 0;
    await proxy.cut();
    await eventually(() => events.includes("jobs.store.unavailable"));
  };

  /** Opens `hold` while the store is away (so what follows must be retried), then brings the store back. */
  const releaseDuringOutage = async (hold: { open: () => void }): Promise<void> => {
    hold.open();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await restore();
  };

  /** Submits `fn` and waits until it runs. */
  const running = async (fn: () => unknown): Promise<string> => {
    const id = await runner.submit(fn);
    await eventually(async () => (await runner.get(id)).status === "running");
    return id;
  };

  /** Lets the store back in and waits until its breaker has closed again. */
  const restore = async (): Promise<void> => {
    await proxy.listen();
    await eventually(() => db.circuit?.state === "closed");
  };

  before(async () => {
    await proxy.listen();
    db = await openDatabase(databaseUrlAt(proxy.port), { postgres: { schema, max: 4, connectRetries: 0, connectTimeoutSeconds: 2, breaker: { probeIntervalMs: 50 } } });
    direct = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    runner = await runnerOn(db, { heartbeatMs: 40, leaseTtlMs: 60_000, storeRetryMaxMs: 20, maxConcurrency: 1, logger });
  });

  after(async () => {
    await proxy.listen().catch(() => {});
    await runner.close();
    await db.close();
    await direct.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await direct.end({ timeout: 1 });
    await proxy.cut();
  });

  it("keeps the result of a job that finished while the store was away and completes it on return", async () => {
    const hold = gate();
    const artifact = newUlid();
    const id = await running(async () => {
      await hold.promise;
      return artifact;
    });
    await cutUntilNoticed();
    await releaseDuringOutage(hold);
    const record = await runner.wait(id, 10_000);
    assert.equal(record.status, "completed");
    assert.equal(record.artifact_id, artifact);
    assert.equal(record.error, null);
  });

  it("retries the claim of a queued job while the store is away and runs it once it is back", async () => {
    const hold = gate();
    // The first job holds the only slot past its cancellation, so the second is claimed during the outage.
    const first = await runner.submit(() => hold.promise);
    const second = await runner.submit(() => "done");
    await eventually(async () => (await runner.get(first)).status === "running");
    await runner.cancel(first);
    await cutUntilNoticed();
    await releaseDuringOutage(hold);
    const record = await runner.wait(second, 10_000);
    assert.equal(record.status, "completed");
    assert.equal((await runner.get(first)).status, "canceled");
  });

  it("renews the lease of a running job as soon as the store is back", async () => {
    const hold = gate();
    const id = await running(() => hold.promise);
    await cutUntilNoticed();
    const cutAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await restore();
    await eventually(async () => (await heartbeatOf(id)) > cutAt + 150);
    hold.open();
    assert.equal((await runner.wait(id, 10_000)).status, "completed");
  });

  it("neither renews nor overwrites a job another instance took over during the outage", async () => {
    const hold = gate();
    const id = await running(() => hold.promise);
    await cutUntilNoticed();
    // Another instance declared it interrupted while this one could not reach the store.
    await direct.unsafe(
      `UPDATE "${schema}".jobs SET status = 'failed', error = 'taken over', finished_at = now() WHERE id = $1`,
      [id],
    );
    const takenOverBeat = await heartbeatOf(id);
    await releaseDuringOutage(hold);
    await eventually(() => events.includes("jobs.store.recovered"));
    // Let a few heartbeats pass: none may touch the job that is no longer ours.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const record = await runner.get(id);
    assert.equal(record.status, "failed");
    assert.equal(record.error, "taken over");
    assert.equal(await heartbeatOf(id), takenOverBeat);
  });
});
