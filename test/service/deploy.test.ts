import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { call } from "../_support/http.ts";
import { startService } from "../_support/service-process.ts";

const script = fileURLToPath(new URL("./_settings-server.ts", import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), "chapkit-deploy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("probes and draining", () => {
  let app: ServiceApp;
  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Probes" } }).withHealth().withSystem().build();
  });
  after(() => app.chapkit.close());

  it("answers liveness and readiness while ready", async () => {
    assert.deepEqual(await (await call(app, "GET", "/health/live")).json(), { status: "healthy" });
    const ready = await call(app, "GET", "/health/ready");
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).checks.database.state, "healthy");
  });

  it("turns every readiness path to 503 on $drain, and keeps liveness", async () => {
    const drained = await call(app, "POST", "/api/v1/system/$drain");
    assert.equal(drained.status, 202);
    assert.deepEqual(await drained.json(), { status: "draining" });
    for (const path of ["/api/v1/health", "/health/ready"]) {
      const response = await call(app, "GET", path);
      assert.equal(response.status, 503, path);
      const report = await response.json();
      assert.equal(report.status, "unhealthy");
      assert.match(report.checks.draining.message, /draining \(POST \/api\/v1\/system\/\$drain\)/);
    }
    assert.equal((await call(app, "GET", "/health/live")).status, 200);
    assert.equal(app.chapkit.readiness.draining, true);
  });
});

describe("$drain under auth", () => {
  for (const [role, status] of [["editor", 403], ["admin", 202]] as const) {
    it(`answers ${status} to an ${role}`, async () => {
      const key = `${role}-static-key-0123456789abcdef`;
      const app = await new ServiceBuilder({ info: { display_name: "Guarded" } })
        .withHealth()
        .withSystem()
        .withAuth({ staticKeys: [key], staticKeyRole: role, jwtSecret: "j".repeat(40) })
        .build();
      try {
        assert.equal((await call(app, "POST", "/api/v1/system/$drain", undefined, { "X-API-Key": key })).status, status);
        assert.equal(app.chapkit.readiness.draining, status === 202);
        assert.equal((await call(app, "GET", "/health/live")).status, 200, "probes need no credentials");
      } finally {
        await app.chapkit.close();
      }
    });
  }
});

describe("a served process", () => {
  it("reloads the log level on SIGHUP without dropping connections", async () => {
    const file = join(dir, "sighup.json");
    writeFileSync(file, JSON.stringify({ log: { level: "info" } }));
    const service = await startService(script, { CHAPKIT_CONFIG_FILE: file, CHAPKIT_SERVER_WATCH_CONFIG: "false" });
    try {
      await fetch(`${service.url}/log?mark=before`).then((response) => response.json());
      writeFileSync(file, JSON.stringify({ log: { level: "debug" }, server: { port: 1 } }));
      service.signal("SIGHUP");
      await service.waitFor(/settings\.reloaded applied=\["log\.level"\] needs_restart=\["server\.port"\]/);
      await fetch(`${service.url}/log?mark=after`).then((response) => response.json());
      await service.waitFor(/probe\.debug_visible mark=after/);
      assert.doesNotMatch(service.output(), /mark=before/);
    } finally {
      await service.stop();
    }
  });

  it("reloads when the config file changes", async () => {
    const file = join(dir, "watched.json");
    writeFileSync(file, JSON.stringify({ log: { level: "info" } }));
    const service = await startService(script, { CHAPKIT_CONFIG_FILE: file });
    try {
      writeFileSync(file, JSON.stringify({ log: { level: "debug" } }));
      await service.waitFor(/settings\.reloaded applied=\["log\.level"\]/);
      await fetch(`${service.url}/log?mark=watched`).then((response) => response.json());
      await service.waitFor(/probe\.debug_visible mark=watched/);
    } finally {
      await service.stop();
    }
  });

  it("drains on SIGTERM: readiness answers 503 while in-flight work finishes, then it exits 0", async () => {
    const service = await startService(script, { CHAPKIT_SERVER_DRAIN_DELAY_MS: "400" });
    service.signal("SIGTERM");
    await service.waitFor(/service\.draining reason=SIGTERM/);
    const ready = await fetch(`${service.url}/health/ready`);
    assert.equal(ready.status, 503);
    await ready.body?.cancel();
    assert.equal((await fetch(`${service.url}/probe`).then((response) => response.json())).ok, true, "still serving while draining");
    const code = await service.exited;
    assert.ok(code === 0 || code === null, `exit ${code}`);
    assert.match(service.output(), /service\.stopped/);
  });

  it("drains and exits after POST /api/v1/system/$drain", async () => {
    const service = await startService(script);
    const response = await fetch(`${service.url}/api/v1/system/$drain`, { method: "POST" });
    assert.equal(response.status, 202);
    await response.json();
    assert.equal(await service.exited, 0);
    assert.match(service.output(), /service\.draining reason=POST \/api\/v1\/system\/\$drain/);
  });
});
