/**
 * Outbound breakers show in `/metrics` (`chapkit_outbound_circuit_state`) and
 * in health (a `degraded` entry per breaker that is not closed).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { OutboundPolicy } from "../../src/core/resilient-fetch.ts";
import { outboundRegistryOf } from "../../src/http/health.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";

describe("outbound breaker state in metrics and health", () => {
  let app: ServiceApp;
  let server: Server;
  let live: string;
  let dead: string;

  before(async () => {
    server = createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    live = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A port that was just free and is closed again: connections are refused at once.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));
    app = await new ServiceBuilder({ info: { display_name: "Outbound" } })
      .withDatabase("sqlite::memory:")
      .withHealth()
      .withMonitoring()
      .build();
  });
  after(async () => {
    await app.chapkit.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reports an open breaker as degraded and as state open, and a closed one as closed only", async () => {
    const policy = new OutboundPolicy({ retries: 0, timeoutMs: 2000, breaker: { failureThreshold: 1, probeIntervalMs: 60_000 } });
    const remove = outboundRegistryOf(app.chapkit.context).add(policy);
    const ok = await policy.fetch(`${live}/x`);
    assert.equal(await ok.text(), "ok");
    await assert.rejects(policy.fetch(`${dead}/x`));
    assert.equal(policy.snapshots().find((circuit) => circuit.name === dead)?.state, "open");

    const health = await json<{ status: string; checks: Record<string, { state: string; message?: string }> }>(
      await call(app, "GET", "/api/v1/health"),
      200,
    );
    assert.equal(health.status, "degraded");
    assert.equal(health.checks[`outbound:${dead}`]?.state, "degraded");
    assert.match(String(health.checks[`outbound:${dead}`]?.message), /Circuit open after 1 failures/);
    assert.equal(health.checks[`outbound:${live}`], undefined, "closed breakers add no entry");
    assert.equal(health.checks.database?.state, "healthy");

    const metrics = await (await call(app, "GET", "/metrics")).text();
    assert.match(metrics, new RegExp(`chapkit_outbound_circuit_state\\{origin="${dead}",state="open"\\} 1`));
    assert.match(metrics, new RegExp(`chapkit_outbound_circuit_state\\{origin="${dead}",state="closed"\\} 0`));
    assert.match(metrics, new RegExp(`chapkit_outbound_circuit_state\\{origin="${live}",state="closed"\\} 1`));
    remove();
    const after = await json<{ status: string }>(await call(app, "GET", "/api/v1/health"), 200);
    assert.equal(after.status, "healthy", "a removed policy is no longer reported");
  });
});
