import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alertPayload, type Alert } from "../../src/observability/alerts.ts";
import { EwmaDetector } from "../../src/observability/anomaly.ts";
import { RequestSeries } from "../../src/observability/request-series.ts";
import { nextState } from "../../src/observability/thresholds.ts";

describe("threshold hysteresis", () => {
  const levels = { degraded: 1, unhealthy: 2 };

  it("rises at once when a threshold is reached", () => {
    assert.equal(nextState("healthy", levels, 1, 0.1), "degraded");
    assert.equal(nextState("healthy", levels, 2.5, 0.1), "unhealthy");
    assert.equal(nextState("degraded", levels, 2, 0.1), "unhealthy");
  });

  it("stays in a state while the value hovers inside the band below its threshold", () => {
    assert.equal(nextState("degraded", levels, 0.95, 0.1), "degraded");
    assert.equal(nextState("unhealthy", levels, 1.85, 0.1), "unhealthy");
  });

  it("falls only below the band, possibly by two states at once", () => {
    assert.equal(nextState("degraded", levels, 0.89, 0.1), "healthy");
    assert.equal(nextState("unhealthy", levels, 1.5, 0.1), "degraded");
    assert.equal(nextState("unhealthy", levels, 0.5, 0.1), "healthy");
  });

  it("does not flap on a value oscillating around a threshold", () => {
    let state: "healthy" | "degraded" | "unhealthy" = "healthy";
    const seen: string[] = [];
    for (const value of [1.01, 0.99, 1.02, 0.97, 1.0, 0.93]) {
      state = nextState(state, levels, value, 0.1);
      seen.push(state);
    }
    assert.deepEqual(new Set(seen), new Set(["degraded"]));
  });

  it("works with only one level declared", () => {
    assert.equal(nextState("healthy", { unhealthy: 5 }, 4, 0.1), "healthy");
    assert.equal(nextState("healthy", { unhealthy: 5 }, 5, 0.1), "unhealthy");
    assert.equal(nextState("unhealthy", { unhealthy: 5 }, 4.6, 0.1), "unhealthy");
    assert.equal(nextState("unhealthy", { unhealthy: 5 }, 4.4, 0.1), "healthy");
  });
});

describe("request series", () => {
  const bounds = [0.01, 0.1, 1];

  it("summarises count, rate, error ratio and interpolated quantiles over a window", () => {
    const series = new RequestSeries(bounds, { slotMs: 1000 });
    const now = 1_000_000;
    for (let i = 0; i < 90; i++) series.record(0.005, 200, now);
    for (let i = 0; i < 10; i++) series.record(0.5, 503, now - 1000);
    const summary = series.summary(10_000, now);
    assert.equal(summary.count, 100);
    assert.equal(summary.errorRatio, 0.1);
    assert.equal(summary.rate, 10);
    // 50th of 100: inside the first bucket (0–10 ms), 50/90 of the way.
    assert.ok(Math.abs(summary.p50 - 0.01 * (50 / 90)) < 1e-12);
    // 95th: inside the (0.1, 1] bucket, 5 of its 10.
    assert.ok(Math.abs(summary.p95 - (0.1 + 0.9 * 0.5)) < 1e-12);
  });

  it("forgets slots older than the window", () => {
    const series = new RequestSeries(bounds, { slotMs: 100, retainMs: 1000 });
    series.record(0.5, 500, 10_000);
    assert.equal(series.summary(500, 10_000).count, 1);
    assert.equal(series.summary(500, 10_700).count, 0);
    // After a full turn of the ring the old slot is reused and cleared.
    for (let t = 10_100; t <= 11_200; t += 100) series.record(0.001, 200, t);
    assert.equal(series.summary(100_000, 11_200).errorRatio, 0);
  });
});

describe("alert payloads", () => {
  const alert: Alert = {
    status: "firing",
    name: "error_ratio",
    state: "unhealthy",
    previous: "healthy",
    value: 0.5,
    threshold: 0.4,
    message: "50% of requests failed",
    service: "Demo",
    at: "2026-11-30T10:00:00.000Z",
  };

  it("speaks Alertmanager v2: a list, severity label, endsAt on resolve", () => {
    const [firing] = alertPayload(alert, { url: "x", format: "alertmanager" }, "http://svc/status") as Record<string, any>[];
    assert.deepEqual(firing!.labels, { alertname: "error_ratio", service: "Demo", severity: "critical" });
    assert.equal(firing!.startsAt, alert.at);
    assert.equal(firing!.endsAt, undefined);
    assert.equal(firing!.generatorURL, "http://svc/status");
    const [resolved] = alertPayload({ ...alert, status: "resolved", state: "healthy" }, { url: "x", format: "alertmanager" }) as Record<string, any>[];
    assert.equal(resolved!.endsAt, alert.at);
  });

  it("speaks PagerDuty Events v2 with a stable dedup key", () => {
    const trigger = alertPayload(alert, { url: "x", format: "pagerduty", routingKey: "R1" }) as Record<string, any>;
    assert.equal(trigger.routing_key, "R1");
    assert.equal(trigger.event_action, "trigger");
    assert.equal(trigger.dedup_key, "Demo/error_ratio");
    assert.equal(trigger.payload.severity, "critical");
    assert.equal(trigger.payload.source, "Demo");
    const resolve = alertPayload({ ...alert, status: "resolved" }, { url: "x", format: "pagerduty", routingKey: "R1" }) as Record<string, any>;
    assert.equal(resolve.event_action, "resolve");
    assert.equal(resolve.dedup_key, trigger.dedup_key);
    assert.equal(resolve.payload, undefined);
  });

  it("speaks Slack incoming webhooks: text plus a section block", () => {
    const slack = alertPayload(alert, { url: "x", format: "slack" }) as Record<string, any>;
    assert.match(slack.text, /Demo error_ratio is unhealthy: 50% of requests failed/);
    assert.equal(slack.blocks[0].type, "section");
  });
});

describe("EWMA anomaly detection", () => {
  it("judges nothing during warm-up", () => {
    const detector = new EwmaDetector({ warmup: 5 });
    for (const value of [1, 1, 1, 1, 100]) assert.equal(detector.observe(value).anomalous, false);
  });

  it("ignores noise, flags a spike, holds while still high and clears below half the z threshold", () => {
    const detector = new EwmaDetector({ alpha: 0.1, zThreshold: 3, warmup: 10 });
    const noise = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 11, 9, 10, 12, 8];
    for (const value of noise) assert.equal(detector.observe(value).anomalous, false, String(value));
    const spike = detector.observe(30);
    assert.equal(spike.anomalous, true);
    assert.ok(spike.z > 3 && spike.bound < 30, JSON.stringify(spike));
    assert.equal(detector.observe(22).anomalous, true, "a still-high value keeps the anomaly");
    let cleared = false;
    for (let i = 0; i < 20 && !cleared; i++) cleared = !detector.observe(10).anomalous;
    assert.ok(cleared, "back to normal values clear the anomaly");
  });

  it("does not flag a series that improves", () => {
    const detector = new EwmaDetector({ warmup: 3 });
    for (const value of [10, 11, 9, 10, 2, 1, 0]) assert.equal(detector.observe(value).anomalous, false);
  });
});
