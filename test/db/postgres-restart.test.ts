/**
 * A private PostgreSQL server stopped and started under a steady write loop,
 * health probes and a running job (the outage drill): while it is down every
 * write and read answers a 503 problem with Retry-After and health answers 503
 * naming the database check; once it is back the same service, without a
 * restart, answers 200 and 201 again, no acknowledged write is lost and the
 * job completes. How fast is reported by `bun bench faults`, not asserted.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type DrillResult, runOutageDrill } from "../_support/outage-drill.ts";
import { type PrivatePostgres, privatePostgresUnavailable, startPrivatePostgres } from "../_support/private-postgres.ts";

const unavailable = privatePostgresUnavailable();

describe("a service whose PostgreSQL server is stopped and started again", { skip: unavailable ?? false }, () => {
  let pg: PrivatePostgres | undefined;
  let running: Promise<DrillResult> | undefined;
  // The drill runs once, in the first test that needs it (hooks have a short timeout on Bun).
  const theDrill = (): Promise<DrillResult> =>
    running ??= startPrivatePostgres().then((server) => {
      pg = server;
      return runOutageDrill(server, { outageMs: 1500, calmMs: 300 });
    });
  const slow = { timeout: 90_000 };

  after(async () => {
    await pg?.destroy();
  });

  const during = (drill: DrillResult, samples: DrillResult["writes"]) =>
    samples.filter((s) => s.at > drill.stoppedAt && s.at + s.ms < drill.acceptingAt);
  /** Probes sent once the service has met the outage (its database check may answer from its 1 s cache before). */
  const afterNoticed = (drill: DrillResult) => {
    const first = drill.writes.find((w) => w.at >= drill.stopAt && w.status === 503)!;
    return during(drill, drill.health).filter((h) => h.at > first.at + first.ms);
  };

  it("answers every write while the server is down with a 503 unavailable problem carrying Retry-After", slow, async () => {
    const drill = await theDrill();
    const down = during(drill, drill.writes);
    assert.ok(down.length > 0, "no write was sent during the outage");
    for (const write of down) {
      assert.equal(write.status, 503);
      assert.equal(write.kind, "urn:chapkit:error:unavailable");
      assert.ok(Number(write.retryAfter) >= 1, `Retry-After ${write.retryAfter}`);
    }
    assert.equal(drill.thrown, 0);
  });

  it("answers health with 503 unhealthy naming the database check once the service has met the outage", slow, async () => {
    const drill = await theDrill();
    const down = afterNoticed(drill);
    assert.ok(down.length > 0);
    for (const probe of down) {
      assert.equal(probe.status, 503);
      assert.equal(probe.kind, "unhealthy");
      assert.equal(probe.database, "unhealthy");
    }
  });

  it("serves writes and health again once the server is back, without a restart", slow, async () => {
    const drill = await theDrill();
    const last = drill.writes.at(-1)!;
    assert.equal(last.status, 201);
    assert.equal(drill.health.at(-1)!.status, 200);
  });

  it("loses no acknowledged write", slow, async () => {
    const drill = await theDrill();
    assert.ok(drill.acknowledged > 0);
    assert.equal(drill.lost, 0);
  });

  it("completes the job that finished while the server was down instead of failing it", slow, async () => {
    const drill = await theDrill();
    assert.deepEqual(drill.job, { status: "completed", error: null });
  });
});
