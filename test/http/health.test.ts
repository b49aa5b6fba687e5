import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openDatabase } from "../../src/db/open.ts";
import { databaseCheck, healthRoutes } from "../../src/http/health.ts";
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
});
