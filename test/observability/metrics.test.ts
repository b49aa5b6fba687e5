import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { negotiateExposition, Registry } from "../../src/observability/metrics.ts";
import { errorTypeLabel, Monitoring } from "../../src/observability/monitoring.ts";
import { promtoolCheck } from "../_support/promtool.ts";

function sample(): Registry {
  const registry = new Registry();
  registry.counter({ name: "demo_hits_total", help: "Hits.", labelNames: ["cache"] }).inc(2, "configs");
  registry.gauge({ name: "demo_depth", help: "Queue depth." }).set(3);
  const histogram = registry.histogram({ name: "demo_duration_seconds", help: "Durations.", buckets: [0.1, 1] });
  histogram.observe(0.05);
  histogram.observe(0.5);
  histogram.observe(5);
  return registry;
}

describe("metrics registry", () => {
  it("writes the Prometheus text format with cumulative buckets, sum and count", async () => {
    assert.equal(
      await sample().expose("prometheus"),
      [
        "# HELP demo_hits_total Hits.",
        "# TYPE demo_hits_total counter",
        'demo_hits_total{cache="configs"} 2',
        "# HELP demo_depth Queue depth.",
        "# TYPE demo_depth gauge",
        "demo_depth 3",
        "# HELP demo_duration_seconds Durations.",
        "# TYPE demo_duration_seconds histogram",
        'demo_duration_seconds_bucket{le="0.1"} 1',
        'demo_duration_seconds_bucket{le="1"} 2',
        'demo_duration_seconds_bucket{le="+Inf"} 3',
        "demo_duration_seconds_sum 5.55",
        "demo_duration_seconds_count 3",
        "",
      ].join("\n"),
    );
  });

  it("writes OpenMetrics: counter families without _total, float bounds, and # EOF", async () => {
    const text = await sample().expose("openmetrics");
    assert.match(text, /^# HELP demo_hits Hits\.\n# TYPE demo_hits counter\ndemo_hits_total\{cache="configs"\} 2\n/);
    assert.match(text, /demo_duration_seconds_bucket\{le="1\.0"\} 2\n/);
    assert.ok(text.endsWith("demo_duration_seconds_count 3\n# EOF\n"));
  });

  it("escapes label values and help text", async () => {
    const registry = new Registry();
    registry.gauge({ name: "demo_info", help: "A \\ back\nslash.", labelNames: ["v"] }).set(1, 'a"b\\c\nd');
    const text = await registry.expose();
    assert.ok(text.includes("# HELP demo_info A \\\\ back\\nslash.\n"));
    assert.ok(text.includes('demo_info{v="a\\"b\\\\c\\nd"} 1\n'));
    assert.equal(promtoolCheck(text).status, 0);
  });

  it("refuses invalid names, counters without _total, reserved labels and duplicates", () => {
    const registry = new Registry();
    assert.throws(() => registry.gauge({ name: "bad-name", help: "x" }), /Invalid metric name/);
    assert.throws(() => registry.counter({ name: "demo_hits", help: "x" }), /must end in _total/);
    assert.throws(() => registry.histogram({ name: "demo_seconds", help: "x", labelNames: ["le"] }), /Invalid label name/);
    registry.gauge({ name: "demo_depth", help: "x" });
    assert.throws(() => registry.gauge({ name: "demo_depth", help: "x" }), /already registered/);
    assert.throws(() => registry.histogram({ name: "demo_h_seconds", help: "x", buckets: [1, 1] }), /must ascend/);
  });

  it("refuses a series with the wrong number of label values", () => {
    const counter = new Registry().counter({ name: "demo_total", help: "x", labelNames: ["a", "b"] });
    assert.throws(() => counter.inc(1, "only-one"), /takes 2 label values/);
  });

  it("runs collectors before writing, including async ones", async () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: "demo_rows", help: "Rows.", labelNames: ["table"] });
    let calls = 0;
    gauge.collect(async () => {
      calls += 1;
      await Promise.resolve();
      gauge.set(calls * 10, "configs");
    });
    assert.match(await registry.expose(), /demo_rows\{table="configs"\} 10/);
    assert.match(await registry.expose(), /demo_rows\{table="configs"\} 20/);
  });

  it("negotiates OpenMetrics only when Accept names it", () => {
    assert.equal(negotiateExposition(null), "prometheus");
    assert.equal(negotiateExposition("text/plain;version=0.0.4"), "prometheus");
    assert.equal(
      negotiateExposition("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
      "openmetrics",
    );
  });

  it("labels errors by the last segment of their problem type", () => {
    assert.equal(errorTypeLabel("urn:chapkit:error:not-found"), "not-found");
    assert.equal(errorTypeLabel("about:blank"), "blank");
    assert.equal(errorTypeLabel(`urn:x:${"y".repeat(80)}`), "other");
  });

  it("passes promtool with every chapkit and process metric registered", async () => {
    const monitoring = new Monitoring();
    monitoring.httpDuration.observe(0.01, "GET", "/api/v1/config/:id", "200");
    monitoring.recordError("urn:chapkit:error:not-found");
    monitoring.dbQueryDuration.observe(0.001, "sqlite", "select");
    monitoring.jobs.set(2, "pending");
    monitoring.artifactSize.observe(1024);
    const result = promtoolCheck(await monitoring.registry.expose("prometheus"));
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output, "");
  });
});

describe("monitoring docs", () => {
  const docs = readFileSync(new URL("../../docs/monitoring.md", import.meta.url).pathname, "utf8");
  const dashboard = readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url).pathname, "utf8");
  const registered = new Monitoring();
  const exists = (name: string): boolean =>
    registered.registry.get(name) !== undefined || registered.registry.get(name.replace(/_(bucket|sum|count)$/, "")) !== undefined;

  it("documents exactly the metrics a monitored service registers", () => {
    const table = docs.slice(docs.indexOf("## Metrics"), docs.indexOf("### Cost"));
    const documented = new Set([...table.matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|/gm)].flatMap((m) => m[1]!.match(/[a-z_]+/g)!));
    for (const name of documented) assert.ok(exists(name), `${name} is documented but not registered`);
    const text = registered.registry;
    for (const name of ["http_server_request_duration_seconds", "chapkit_jobs", "process_cpu_seconds_total", "chapkit_event_loop_lag_seconds"]) {
      assert.ok(documented.has(name), `${name} is registered but not documented`);
      assert.ok(text.get(name));
    }
  });

  it("ships a Grafana dashboard that queries only registered metrics", () => {
    const parsed = JSON.parse(dashboard) as { panels: { targets: { expr: string }[] }[] };
    const names = parsed.panels.flatMap((panel) => panel.targets.flatMap((t) => t.expr.match(/\b(?:http_server|chapkit|process)_[a-z_]+/g) ?? []));
    assert.ok(names.length > 10);
    for (const name of names) assert.ok(exists(name), `the dashboard queries ${name}, which is not registered`);
  });
});
