import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { runner } from "../../examples/ml_basic.ts";
import { formatTraceparent, parseTraceparent } from "../../src/observability/trace-context.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { BASIC_TRAINING, finished } from "../modules/ml/_support.ts";
import { call, json } from "../_support/http.ts";
import { RUNTIME } from "../_support/stores.ts";

type Received = {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  statusCode: number;
  resource: Record<string, unknown>;
  encoding: string;
};

/** The receiver process: its port and every span it decoded so far. */
interface Receiver {
  port: number;
  spans: Received[];
  waitFor(predicate: (spans: Received[]) => boolean, what: string): Promise<void>;
  stop(): void;
}

async function startReceiver(): Promise<Receiver> {
  const script = new URL("./_otlp-receiver.ts", import.meta.url).pathname;
  const args = RUNTIME === "bun" ? [script] : ["run", "-A", script];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const spans: Received[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.on("data", (chunk: Uint8Array) => {
      buffered += new TextDecoder().decode(chunk);
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith("listening ")) resolve(Number(line.slice(10)));
        if (line.startsWith("span ")) spans.push(JSON.parse(line.slice(5)) as Received);
        if (line.startsWith("error ")) reject(new Error(line));
      }
      for (const waiter of [...waiters]) waiter();
    });
  });
  return {
    port,
    spans,
    async waitFor(predicate, what) {
      if (predicate(spans)) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the receiver never got ${what}; it has ${JSON.stringify(spans.map((s) => s.name))}`));
        }, 10_000);
        const check = (): void => {
          if (!predicate(spans)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    stop: () => void child.kill(),
  };
}

const INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`;

describe("W3C trace context", () => {
  it("reads a valid traceparent and tracestate, and writes it back", () => {
    const context = parseTraceparent(TRACEPARENT, "vendor=abc");
    assert.deepEqual(context, { traceId: INCOMING_TRACE, spanId: INCOMING_SPAN, traceFlags: 1, traceState: "vendor=abc", isRemote: true });
    assert.equal(formatTraceparent(context!), TRACEPARENT);
  });

  it("ignores malformed, all-zero, version ff and extended version 00 headers", () => {
    for (
      const bad of [
        "garbage",
        `00-${"0".repeat(32)}-${INCOMING_SPAN}-01`,
        `00-${INCOMING_TRACE}-${"0".repeat(16)}-01`,
        `ff-${INCOMING_TRACE}-${INCOMING_SPAN}-01`,
        `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01-extra`,
        `00-${INCOMING_TRACE.toUpperCase()}-${INCOMING_SPAN}-01`,
      ]
    ) assert.equal(parseTraceparent(bad), null, bad);
  });

  it("accepts a future version with extra fields", () => {
    assert.equal(parseTraceparent(`01-${INCOMING_TRACE}-${INCOMING_SPAN}-01-what-ever`)?.traceId, INCOMING_TRACE);
  });
});

describe("OpenTelemetry tracing to a real OTLP/HTTP receiver", () => {
  let receiver: Receiver;
  let app: ServiceApp;
  const logLines: string[] = [];
  let trainJobId = "";

  before(async () => {
    receiver = await startReceiver();
    app = await new MLServiceBuilder({
      info: { display_name: "Traced model", version: "1.2.3" },
      configSchema: Type.Object({}, { additionalProperties: true }),
      runner,
    })
      .withLogging({ format: "json", write: (line) => logLines.push(line) })
      .withMonitoring({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "traced-svc",
          OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
          OTEL_BSP_SCHEDULE_DELAY: "20",
        },
      })
      .build();
    const config = await json<{ id: string }>(
      await call(app, "POST", "/api/v1/config", { name: "secret-name-value", data: { token: "secret-data-value" } }, {
        traceparent: TRACEPARENT,
        tracestate: "vendor=abc",
      }),
      201,
    );
    const train = await json<{ job_id: string }>(
      await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: BASIC_TRAINING }, { traceparent: TRACEPARENT }),
      202,
    );
    trainJobId = train.job_id;
    assert.equal((await finished(app, train.job_id)).status, "completed");
    await app.chapkit.context.monitoring!.tracer!.flush();
  });

  after(async () => {
    await app?.chapkit.close();
    receiver?.stop();
  });

  const serverSpan = (name: string): Received | undefined =>
    receiver.spans.find((span) => span.kind === 2 && span.name === name && span.traceId === INCOMING_TRACE);

  it("continues the incoming trace in the request's server span, with route and status", async () => {
    await receiver.waitFor(() => serverSpan("POST /api/v1/config") !== undefined, "the POST span");
    const span = serverSpan("POST /api/v1/config")!;
    assert.equal(span.parentSpanId, INCOMING_SPAN);
    assert.equal(span.traceState, "vendor=abc");
    assert.equal(span.attributes["http.route"], "/api/v1/config");
    assert.equal(span.attributes["http.response.status_code"], 201);
    assert.equal(span.resource["service.name"], "traced-svc");
    assert.equal(span.resource["deployment.environment"], "test");
    assert.equal(span.encoding, "json");
  });

  it("records each store query as a child span with the statement shape and never its values", async () => {
    const parent = serverSpan("POST /api/v1/config")!;
    // Statements nest under the request span, directly or through a transaction span.
    const under = new Set([parent.spanId]);
    for (let grew = true; grew;) {
      grew = false;
      for (const span of receiver.spans) {
        if (under.has(span.parentSpanId) && !under.has(span.spanId)) (under.add(span.spanId), grew = true);
      }
    }
    const queries = receiver.spans.filter((span) => under.has(span.spanId) && span.kind === 3);
    assert.ok(queries.length > 0, "no query spans under the request");
    const insert = queries.find((span) => span.attributes["db.operation.name"] === "insert");
    assert.ok(insert, JSON.stringify(queries.map((q) => q.name)));
    assert.equal(insert.attributes["db.system.name"], "sqlite");
    assert.match(String(insert.attributes["db.query.text"]), /^INSERT INTO .*\?/i);
    const everything = JSON.stringify(receiver.spans);
    assert.ok(!everything.includes("secret-name-value"), "a bound value leaked into a span");
    assert.ok(!everything.includes("secret-data-value"), "a bound value leaked into a span");
  });

  it("puts a job started by a request in the request's trace, with train and query spans under it", async () => {
    await receiver.waitFor((spans) => spans.some((span) => span.name === "ml.train"), "the ml.train span");
    const request = serverSpan("POST /api/v1/ml/$train")!;
    assert.ok(request, "no $train server span");
    const job = receiver.spans.find((span) => span.name === "job ml.train")!;
    assert.equal(job.traceId, INCOMING_TRACE);
    assert.equal(job.parentSpanId, request.spanId);
    assert.deepEqual(job.links, [{ traceId: INCOMING_TRACE, spanId: request.spanId }]);
    assert.equal(job.attributes["chapkit.job.id"], trainJobId);
    const train = receiver.spans.find((span) => span.name === "ml.train")!;
    assert.equal(train.parentSpanId, job.spanId);
    const jobQueries = receiver.spans.filter((span) => span.parentSpanId === job.spanId && span.kind === 3);
    assert.ok(jobQueries.length > 0, "the job's store queries are not under its span");
  });

  it("writes trace_id and span_id on log lines written under a span", () => {
    const traced = logLines.map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.trace_id === INCOMING_TRACE);
    assert.ok(traced.length > 0, "no log line carries the trace id");
    assert.ok(traced.every((record) => typeof record.span_id === "string" && /^[0-9a-f]{16}$/.test(record.span_id as string)));
  });

  it("exports binary protobuf by default and honours the parent's sampling decision", async () => {
    const other = await new ServiceBuilder({ info: { display_name: "Protobuf traced" } })
      .withHealth()
      .withMonitoring({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${receiver.port}/v1/traces` } })
      .build();
    try {
      const unsampled = "11111111111111111111111111111111";
      await call(other, "GET", "/api/v1/health", undefined, { traceparent: `00-${unsampled}-${INCOMING_SPAN}-00` });
      await call(other, "GET", "/api/v1/health", undefined, { traceparent: `00-${"2".repeat(32)}-${INCOMING_SPAN}-01` });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await other.chapkit.context.monitoring!.tracer!.flush();
      await receiver.waitFor((spans) => spans.some((span) => span.traceId === "2".repeat(32)), "the protobuf span");
      const span = receiver.spans.find((s) => s.traceId === "2".repeat(32))!;
      assert.equal(span.encoding, "protobuf");
      assert.equal(span.name, "GET /api/v1/health");
      assert.equal(span.parentSpanId, INCOMING_SPAN);
      assert.equal(span.resource["service.name"], "Protobuf traced");
      assert.ok(!receiver.spans.some((s) => s.traceId === unsampled), "an unsampled trace was exported");
    } finally {
      await other.chapkit.close();
    }
  });

  it("is off when no OTLP endpoint is configured", async () => {
    const plain = await new ServiceBuilder({ info: { display_name: "Untraced" } }).withMonitoring({ env: {} }).build();
    try {
      assert.equal(plain.chapkit.context.monitoring!.tracer, undefined);
    } finally {
      await plain.chapkit.close();
    }
  });

  it("refuses an OTLP protocol it cannot send", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Bad protocol" } })
        .withMonitoring({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" } })
        .build(),
      /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/,
    );
  });
});
