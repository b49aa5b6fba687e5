import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { Elysia } from "elysia";
import { THRESHOLDS_KEY } from "../../src/modules/monitoring/mod.ts";
import { JOBS_KEY } from "../../src/modules/jobs/mod.ts";
import type { JobRunner } from "../../src/modules/jobs/types.ts";
import type { ThresholdMonitor } from "../../src/observability/thresholds.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { call } from "../_support/http.ts";

interface Delivery {
  path: string;
  body: any;
}

/** A webhook receiver on a real socket; `/flaky` answers 503 to its first request. */
async function startWebhooks(): Promise<{ port: number; deliveries: Delivery[]; attempts: Map<string, number>; server: Server }> {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const path = request.url ?? "";
      attempts.set(path, (attempts.get(path) ?? 0) + 1);
      if (path === "/flaky" && attempts.get(path) === 1) {
        response.writeHead(503).end();
        return;
      }
      deliveries.push({ path, body: JSON.parse(body) });
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, deliveries, attempts, server };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe("health thresholds and alerts", () => {
  let webhooks: Awaited<ReturnType<typeof startWebhooks>>;
  let app: ServiceApp;
  let thresholds: ThresholdMonitor;

  before(async () => {
    webhooks = await startWebhooks();
    const base = `http://127.0.0.1:${webhooks.port}`;
    app = await new ServiceBuilder({ info: { display_name: "Thresholded" } })
      .withHealth()
      .withMonitoring({
        seriesSlotMs: 100,
        evaluationIntervalMs: 3_600_000,
        thresholds: { errorRatio: { degraded: 0.2, unhealthy: 0.5 }, windowSeconds: 0.5, minRequests: 4 },
        alerts: {
          backoffMs: 10,
          link: "http://thresholded.example/status",
          webhooks: [
            { url: `${base}/alertmanager`, format: "alertmanager" },
            { url: `${base}/pagerduty`, format: "pagerduty", routingKey: "routing-key-1" },
            { url: `${base}/slack`, format: "slack" },
            { url: `${base}/flaky` },
          ],
        },
      })
      .use(
        new Elysia()
          .get("/ok", () => "ok")
          .get("/boom", () => {
            throw new Error("boom");
          }),
      )
      .build();
    thresholds = app.chapkit.context.get<ThresholdMonitor>(THRESHOLDS_KEY);
  });

  after(async () => {
    await app?.chapkit.close();
    webhooks?.server.close();
  });

  it("declares only the thresholds asked for", async () => {
    const body = await (await call(app, "GET", "/api/v1/health")).json();
    assert.deepEqual(Object.keys(body.checks).sort(), ["database", "error_ratio"]);
    assert.equal(body.status, "healthy");
  });

  it("stays healthy and silent with successful traffic", async () => {
    for (let i = 0; i < 6; i++) await call(app, "GET", "/ok");
    await settle();
    await thresholds.evaluate();
    const response = await call(app, "GET", "/api/v1/health");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).checks.error_ratio.state, "healthy");
    assert.equal(webhooks.deliveries.length, 0);
  });

  it("turns unhealthy (503) naming the failing check, and alerts every webhook once", async () => {
    // With the earlier successes (and health probes) in the window, over half the requests fail.
    for (let i = 0; i < 12; i++) assert.equal((await call(app, "GET", "/boom")).status, 500);
    await settle();
    await thresholds.evaluate();
    const response = await call(app, "GET", "/api/v1/health");
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.status, "unhealthy");
    assert.equal(body.checks.error_ratio.state, "unhealthy");
    assert.match(body.checks.error_ratio.message, /% of requests failed over the last 0.5 s: at or above the unhealthy threshold 0.5/);
    await until(() => webhooks.deliveries.length === 4, "four deliveries");
    const by = (path: string) => webhooks.deliveries.filter((d) => d.path === path).map((d) => d.body);
    assert.equal(by("/alertmanager")[0][0].labels.alertname, "error_ratio");
    assert.equal(by("/alertmanager")[0][0].labels.severity, "critical");
    assert.equal(by("/alertmanager")[0][0].generatorURL, "http://thresholded.example/status");
    assert.equal(by("/pagerduty")[0].event_action, "trigger");
    assert.equal(by("/pagerduty")[0].routing_key, "routing-key-1");
    assert.match(by("/slack")[0].text, /Thresholded error_ratio is unhealthy/);
    assert.equal(by("/flaky")[0].status, "firing");
    assert.equal(webhooks.attempts.get("/flaky"), 2, "the failed delivery was retried once");
  });

  it("sends nothing more while the state does not change", async () => {
    await thresholds.evaluate();
    await thresholds.evaluate();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(webhooks.deliveries.length, 4);
  });

  it("recovers once the failures leave the window, and resolves the alerts", async () => {
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (let i = 0; i < 6; i++) await call(app, "GET", "/ok");
    await settle();
    await thresholds.evaluate();
    const response = await call(app, "GET", "/api/v1/health");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).status, "healthy");
    await until(() => webhooks.deliveries.length === 8, "four resolutions");
    const resolutions = webhooks.deliveries.slice(4);
    const pagerduty = resolutions.find((d) => d.path === "/pagerduty")!.body;
    assert.equal(pagerduty.event_action, "resolve");
    assert.equal(pagerduty.dedup_key, "Thresholded/error_ratio");
    assert.ok(resolutions.find((d) => d.path === "/alertmanager")!.body[0].endsAt);
  });

  it("refuses a PagerDuty webhook without a routing key", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Bad" } })
        .withMonitoring({ alerts: { webhooks: [{ url: "http://127.0.0.1:1/x", format: "pagerduty" }] } })
        .build(),
      /needs a routingKey/,
    );
  });
});

describe("degraded thresholds", () => {
  it("answer 200 with status degraded", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Degraded" } })
      .withHealth({ includeDatabaseCheck: false })
      .withMonitoring({ seriesSlotMs: 100, thresholds: { errorRatio: { degraded: 0.2 }, minRequests: 2 } })
      .use(new Elysia().get("/boom", () => {
        throw new Error("boom");
      }))
      .build();
    try {
      await call(app, "GET", "/boom");
      await call(app, "GET", "/boom");
      await settle();
      await app.chapkit.context.get<ThresholdMonitor>(THRESHOLDS_KEY).evaluate();
      const response = await call(app, "GET", "/api/v1/health");
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "degraded");
      assert.equal(body.checks.error_ratio.state, "degraded");
    } finally {
      await app.chapkit.close();
    }
  });
});

describe("latency anomalies", () => {
  it("post an alert when p95 latency jumps far above its moving average, without changing health", async () => {
    // Latencies here are real: a scheduling hiccup of a loaded machine during the short warm-up
    // is itself an anomaly. Such a disturbed warm-up is run again (at most 3 times); the
    // behaviour under test is then checked on an undisturbed one.
    for (let attempt = 1; ; attempt++) {
      const outcome = await anomalyScenario();
      if (outcome === "checked") return;
      if (attempt === 3) assert.fail("the warm-up was disturbed by a latency anomaly in 3 attempts");
    }
  });
});

async function anomalyScenario(): Promise<"checked" | "disturbed"> {
  {
    const webhooks = await startWebhooks();
    const app = await new ServiceBuilder({ info: { display_name: "Anomalous" } })
      .withHealth({ includeDatabaseCheck: false })
      .withMonitoring({
        seriesSlotMs: 50,
        evaluationIntervalMs: 3_600_000,
        thresholds: { windowSeconds: 0.15, minRequests: 2, anomalies: { warmup: 3, zThreshold: 3, errorRatio: false } },
        alerts: { webhooks: [{ url: `http://127.0.0.1:${webhooks.port}/am`, format: "alertmanager" }] },
      })
      .use(new Elysia()
        .get("/fast", () => "ok")
        .get("/slow", async () => {
          await new Promise((resolve) => setTimeout(resolve, 60));
          return "late";
        }))
      .build();
    const thresholds = app.chapkit.context.get<ThresholdMonitor>(THRESHOLDS_KEY);
    try {
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 3; i++) await call(app, "GET", "/fast");
        await settle();
        await thresholds.evaluate();
        await new Promise((resolve) => setTimeout(resolve, 220));
      }
      if (webhooks.deliveries.length > 0) return "disturbed";
      for (let i = 0; i < 3; i++) await call(app, "GET", "/slow");
      await settle();
      await thresholds.evaluate();
      await until(() => webhooks.deliveries.length === 1, "the anomaly alert");
      const [alert] = webhooks.deliveries[0]!.body;
      assert.equal(alert.labels.alertname, "anomaly_latency");
      assert.match(alert.annotations.summary, /far above its recent average/);
      assert.equal(thresholds.result("anomaly_latency")!.state, "degraded");
      const health = await call(app, "GET", "/api/v1/health");
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "healthy");
      return "checked";
    } finally {
      await app.chapkit.close();
      webhooks.server.close();
    }
  }
}

describe("resource and queue thresholds", () => {
  it("judge pending jobs, memory, event-loop lag and pool saturation from the service's own measurements", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Resources" } })
      .withHealth({ includeDatabaseCheck: false })
      .withJobs({ maxConcurrency: 1 })
      .withMonitoring({
        thresholds: {
          jobQueueDepth: { degraded: 1, unhealthy: 5 },
          memoryBytes: { degraded: 1 },
          eventLoopLagSeconds: { unhealthy: 1000 },
          poolSaturation: { unhealthy: 0.5 },
        },
      })
      .build();
    const runner = app.chapkit.context.get<JobRunner>(JOBS_KEY);
    const hold = ({ signal }: { signal: AbortSignal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    try {
      await runner.submit(hold);
      await runner.submit(hold);
      await app.chapkit.context.get<ThresholdMonitor>(THRESHOLDS_KEY).evaluate();
      const response = await call(app, "GET", "/api/v1/health");
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "degraded");
      assert.equal(body.checks.job_queue_depth.state, "degraded");
      assert.match(body.checks.job_queue_depth.message, /^1 jobs pending: at or above the degraded threshold 1$/);
      assert.equal(body.checks.memory.state, "degraded");
      assert.match(body.checks.memory.message, /resident memory \d+ bytes/);
      assert.deepEqual(body.checks.event_loop_lag, { state: "healthy" });
      assert.deepEqual(body.checks.pool_saturation, { state: "healthy" }, "SQLite has no pool");
    } finally {
      await app.chapkit.close();
    }
  });
});
