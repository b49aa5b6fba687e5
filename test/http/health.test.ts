import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openDatabase } from "../../src/db/open.ts";
import { cachedCheck, databaseCheck, healthReport, healthRoutes } from "../../src/http/health.ts";
import type { HealthCheck } from "../../src/http/module.ts";
import { call } from "./_notes.ts";

const fixed = (name: string, state: "healthy" | "degraded" | "unhealthy", message?: string): HealthCheck => ({
  name,
  check: () => (message === undefined ? { state } : { state, message }),
});

describe("health", () => {
  it("answers healthy without a checks key when there are no checks", async () => {
    const res = await call(healthRoutes(), "GET", "/api/v1/health");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "healthy" });
  });

  it("reports degraded when a check is degraded and none unhealthy", async () => {
    const res = await call(healthRoutes({ checks: [fixed("a", "healthy"), fixed("b", "degraded", "slow")] }), "GET", "/api/v1/health");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: "degraded", checks: { a: { state: "healthy" }, b: { state: "degraded", message: "slow" } } });
  });

  it("answers 503 when any check is unhealthy", async () => {
    const res = await call(healthRoutes({ checks: [fixed("a", "degraded"), fixed("b", "unhealthy")] }), "GET", "/api/v1/health");
    assert.equal(res.status, 503);
    assert.equal(res.body.status, "unhealthy");
  });

  it("reports a throwing check as unhealthy with its message", async () => {
    const boom: HealthCheck = {
      name: "boom",
      check: () => {
        throw new Error("disk on fire");
      },
    };
    const res = await call(healthRoutes({ checks: [boom] }), "GET", "/api/v1/health");
    assert.deepEqual(res.body.checks.boom, { state: "unhealthy", message: "Check failed: disk on fire" });
  });

  it("reports a check that exceeds its timeout as unhealthy", async () => {
    const slow: HealthCheck = { name: "slow", timeoutMs: 20, check: () => new Promise(() => {}) };
    const res = await call(healthRoutes({ checks: [slow] }), "GET", "/api/v1/health");
    assert.equal(res.status, 503);
    assert.match(res.body.checks.slow.message, /timed out after 20 ms/);
  });

  it("omits a null message", async () => {
    const nullMessage: HealthCheck = { name: "n", check: () => ({ state: "healthy", message: null as unknown as string }) };
    const res = await call(healthRoutes({ checks: [nullMessage] }), "GET", "/api/v1/health");
    assert.equal(res.text, '{"status":"healthy","checks":{"n":{"state":"healthy"}}}');
  });

  it("keeps checks in registration order", async () => {
    const res = await call(healthRoutes({ checks: [fixed("z", "healthy"), fixed("a", "healthy")] }), "GET", "/api/v1/health");
    assert.deepEqual(Object.keys(res.body.checks), ["z", "a"]);
  });

  it("reports a reachable database as healthy", async () => {
    const db = await openDatabase("sqlite::memory:");
    const result = await databaseCheck(db).check();
    await db.close();
    assert.deepEqual(result, { state: "healthy" });
  });

  it("reports a closed database as unhealthy", async () => {
    const db = await openDatabase("sqlite::memory:");
    await db.close();
    const result = await databaseCheck(db).check();
    assert.equal(result.state, "unhealthy");
    assert.match(result.message ?? "", /^Database connection failed: /);
  });

  it("refuses a check name with characters outside [A-Za-z0-9_-]", () => {
    assert.throws(() => healthRoutes({ checks: [fixed("bad name", "healthy")] }), /Invalid health check name/);
  });

  it("answers within the route's timeout even when a check's own timeout is longer", async () => {
    const hung: HealthCheck = { name: "hung", timeoutMs: 60_000, check: () => new Promise(() => {}) };
    const res = await call(healthRoutes({ checks: [hung, fixed("ok", "healthy")], timeoutMs: 30 }), "GET", "/api/v1/health");
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.checks.hung, { state: "unhealthy", message: "Check timed out after 30 ms" });
    assert.deepEqual(res.body.checks.ok, { state: "healthy" });
  });

  it("caps every check at the default budget when no timeout is given", async () => {
    const hung: HealthCheck = { name: "hung", check: () => new Promise(() => {}) };
    const report = await healthReport([hung]);
    assert.match(report.checks!.hung!.message ?? "", /timed out after 900 ms/);
  });

  it("reports a SQLite database held by a long transaction as unhealthy within the ping timeout", async () => {
    const db = await openDatabase("sqlite::memory:");
    let release!: () => void;
    const holding = db.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const result = await databaseCheck(db, { timeoutMs: 50 }).check();
      assert.equal(result.state, "unhealthy");
      assert.match(result.message ?? "", /did not answer within 50 ms/);
    } finally {
      release();
      await holding;
      await db.close();
    }
  });
});

describe("cachedCheck", () => {
  it("reuses its last result within the ttl and runs again after invalidate", async () => {
    let runs = 0;
    const check = cachedCheck({ name: "c", check: () => ({ state: "healthy", message: `run ${++runs}` }) }, { ttlMs: 60_000 });
    assert.equal((await check.check()).message, "run 1");
    assert.equal((await check.check()).message, "run 1");
    assert.equal(check.last()?.result.message, "run 1");
    check.invalidate();
    assert.equal(check.last(), undefined);
    assert.equal((await check.check()).message, "run 2");
  });

  it("runs again once the ttl has passed", async () => {
    let runs = 0;
    const check = cachedCheck({ name: "c", check: () => ({ state: "healthy", message: `run ${++runs}` }) }, { ttlMs: 0 });
    await check.check();
    await check.check();
    assert.equal(runs, 2);
  });

  it("shares one run among callers that arrive while it runs", async () => {
    let runs = 0;
    let finish!: () => void;
    const check = cachedCheck({
      name: "slow",
      check: () => (runs++, new Promise((resolve) => (finish = () => resolve({ state: "degraded" })))),
    });
    const first = check.check();
    const second = check.check();
    await new Promise((resolve) => setTimeout(resolve, 5));
    finish();
    assert.deepEqual(await Promise.all([first, second]), [{ state: "degraded" }, { state: "degraded" }]);
    assert.equal(runs, 1);
  });

  it("turns a throwing check into an unhealthy result", async () => {
    const check = cachedCheck({ name: "x", check: () => { throw new Error("nope"); } });
    assert.deepEqual(await check.check(), { state: "unhealthy", message: "Check failed: nope" });
  });
});
