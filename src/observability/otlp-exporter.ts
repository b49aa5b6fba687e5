import type { Logger } from "../core/logging.ts";
import type { Environment } from "../runtime/env.ts";
import { encodeJson, encodeProtobuf, type ExportResource } from "./_otlp-encode.ts";
import { parentBasedAlwaysOn, type ReadableSpan, type Sampler, type SpanExporter, Tracer } from "./tracing.ts";
import { unrefTimer } from "../core/timers.ts";

/** The OTLP/HTTP encodings chapkit exports in. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** Options of {@link OtlpHttpExporter}. */
export interface OtlpExporterOptions {
  /** The full traces URL, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** Encoding (default `http/protobuf`, as the OpenTelemetry specification says). */
  protocol?: OtlpProtocol;
  /** Extra request headers (e.g. an API key of a hosted backend). */
  headers?: Record<string, string>;
  /** Resource attributes and scope of every batch. */
  resource: ExportResource;
  /** Milliseconds between exports (default 5000). */
  scheduleDelayMs?: number;
  /** Spans per request at most (default 512). */
  maxBatchSize?: number;
  /** Spans buffered at most; more are dropped (default 2048). */
  maxQueueSize?: number;
  /** Milliseconds one export may take (default 10 000). */
  timeoutMs?: number;
  /** Where failed exports are reported. */
  logger?: Logger;
}

/**
 * Sends finished spans to an OTLP/HTTP receiver in batches: every
 * `scheduleDelayMs`, when a batch is full, and at shutdown. A failed export
 * is retried once after a short pause (a 4xx other than 429 is not), then
 * dropped with a warning; spans never block or fail the work they describe.
 */
export class OtlpHttpExporter implements SpanExporter {
  readonly #options: OtlpExporterOptions;
  #queue: ReadableSpan[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight = new Set<Promise<void>>();
  #stopped = false;

  /** Creates an exporter posting to `options.url`. */
  constructor(options: OtlpExporterOptions) {
    this.#options = options;
  }

  onEnd(span: ReadableSpan): void {
    if (this.#stopped) return;
    if (this.#queue.length >= (this.#options.maxQueueSize ?? 2048)) return;
    this.#queue.push(span);
    if (this.#queue.length >= (this.#options.maxBatchSize ?? 512)) {
      void this.#drain();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#drain();
      }, this.#options.scheduleDelayMs ?? 5000);
      unrefTimer(this.#timer);
    }
  }

  async flush(): Promise<void> {
    await this.#drain();
    await Promise.all([...this.#inflight]);
  }

  async shutdown(): Promise<void> {
    await this.flush();
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #drain(): Promise<void> {
    const size = this.#options.maxBatchSize ?? 512;
    const sends: Promise<void>[] = [];
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, size);
      const send = this.#send(batch).finally(() => this.#inflight.delete(send));
      this.#inflight.add(send);
      sends.push(send);
    }
    return Promise.all(sends).then(() => {});
  }

  async #send(batch: ReadableSpan[]): Promise<void> {
    const json = this.#options.protocol === "http/json";
    const body = json ? encodeJson(batch, this.#options.resource) : encodeProtobuf(batch, this.#options.resource);
    const headers = {
      ...this.#options.headers,
      "content-type": json ? "application/json" : "application/x-protobuf",
    };
    let failure = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const response = await fetch(this.#options.url, {
          method: "POST",
          headers,
          body: body as BodyInit,
          signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
        });
        await response.body?.cancel();
        if (response.ok) return;
        failure = `HTTP ${response.status}`;
        if (response.status >= 400 && response.status < 500 && response.status !== 429) break;
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    this.#options.logger?.warn("otel.export.failed", { url: this.#options.url, spans: batch.length, error: failure });
  }
}


function parseList(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (value ?? "").split(",")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, index).trim())] = decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      // a malformed percent-escape: skip the entry, as the specification allows
    }
  }
  return out;
}

function ratioOf(arg: string | undefined): number {
  const ratio = Number(arg ?? "1");
  return Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
}

/** The sampler `OTEL_TRACES_SAMPLER` (+ `_ARG`) names (default `parentbased_always_on`). */
export function samplerFromEnv(env: Environment): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  const ratio = ratioOf(env.OTEL_TRACES_SAMPLER_ARG);
  const byRatio = (traceId: string): boolean => parseInt(traceId.slice(-8), 16) / 0x1_0000_0000 < ratio;
  const parentBased = (root: (traceId: string) => boolean): Sampler => (parent, traceId) =>
    parent === undefined ? root(traceId) : (parent.traceFlags & 1) === 1;
  switch (name) {
    case "always_on":
      return () => true;
    case "always_off":
      return () => false;
    case "traceidratio":
      return (_parent, traceId) => byRatio(traceId);
    case "parentbased_always_off":
      return parentBased(() => false);
    case "parentbased_traceidratio":
      return parentBased(byRatio);
    default:
      return parentBasedAlwaysOn;
  }
}

/** What {@link tracingFromEnv} read: a traces URL and protocol, or why tracing is off. */
export interface OtlpSettings {
  /** The traces URL. */
  url: string;
  /** The encoding. */
  protocol: OtlpProtocol;
  /** Extra headers. */
  headers: Record<string, string>;
  /** Resource attributes (`service.name` included). */
  resource: Record<string, string>;
}

/**
 * Reads the standard OpenTelemetry variables. Tracing is on only when
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is
 * set (and neither `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none`).
 *
 * @throws {TypeError} for a protocol other than `http/protobuf` or `http/json` (gRPC is not offered).
 */
export function otlpSettingsFromEnv(env: Environment, defaultServiceName: string): OtlpSettings | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return null;
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!signal && !base) return null;
  const url = signal || `${base!.replace(/\/+$/, "")}/v1/traces`;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf").trim();
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new TypeError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json`);
  }
  const resource = parseList(env.OTEL_RESOURCE_ATTRIBUTES);
  resource["service.name"] = env.OTEL_SERVICE_NAME?.trim() || resource["service.name"] || defaultServiceName;
  return {
    url,
    protocol,
    headers: { ...parseList(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    resource,
  };
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * A tracer exporting over OTLP/HTTP as the `OTEL_*` variables say, or null
 * when they configure no endpoint (tracing off). Honours
 * `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_TRACES_SAMPLER(_ARG)` and the batch
 * settings `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`,
 * `OTEL_BSP_MAX_QUEUE_SIZE`.
 */
export function tracerFromEnv(
  env: Environment,
  options: { serviceName: string; version: string; logger?: Logger },
): Tracer | null {
  const settings = otlpSettingsFromEnv(env, options.serviceName);
  if (!settings) return null;
  const timeout = positive(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT);
  const delay = positive(env.OTEL_BSP_SCHEDULE_DELAY);
  const batch = positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE);
  const queue = positive(env.OTEL_BSP_MAX_QUEUE_SIZE);
  const exporter = new OtlpHttpExporter({
    url: settings.url,
    protocol: settings.protocol,
    headers: settings.headers,
    resource: { attributes: settings.resource, scope: { name: "chapkit", version: options.version } },
    ...(timeout ? { timeoutMs: timeout } : {}),
    ...(delay ? { scheduleDelayMs: delay } : {}),
    ...(batch ? { maxBatchSize: batch } : {}),
    ...(queue ? { maxQueueSize: queue } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return new Tracer({ exporter, sampler: samplerFromEnv(env) });
}
