import { AsyncLocalStorage } from "node:async_hooks";
import { newSpanId, newTraceId, type SpanContext } from "./trace-context.ts";

/** OTLP span kinds (the numbers are the wire values). */
export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** One of {@link SpanKind}'s values. */
export type SpanKindValue = typeof SpanKind[keyof typeof SpanKind];

/** A span attribute value (OTLP `AnyValue` subset). */
export type AttributeValue = string | number | boolean;

/** Span attributes by semantic-convention name. */
export type Attributes = Record<string, AttributeValue>;

/** A link to another span (e.g. from a job to the request that submitted it). */
export interface SpanLink {
  /** The linked span. */
  context: SpanContext;
  /** Why it is linked. */
  attributes?: Attributes;
}

/** A finished span as exporters see it. */
export interface ReadableSpan {
  /** This span's identity. */
  readonly context: SpanContext;
  /** The parent span's id, or null for a root span. */
  readonly parentSpanId: string | null;
  /** Low-cardinality operation name, e.g. `GET /api/v1/config/:id`. */
  readonly name: string;
  /** What the span stands for. */
  readonly kind: SpanKindValue;
  /** Start, in nanoseconds since the Unix epoch. */
  readonly startTimeUnixNano: bigint;
  /** End, in nanoseconds since the Unix epoch. */
  readonly endTimeUnixNano: bigint;
  /** Attributes set while it ran. */
  readonly attributes: Attributes;
  /** Links to other spans. */
  readonly links: readonly SpanLink[];
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: 0 | 1 | 2;
  /** Why it failed, when `statusCode` is 2. */
  readonly statusMessage: string;
}

/** Where finished spans go (the OTLP exporter). */
export interface SpanExporter {
  /** Takes a finished, sampled span; must not throw or block. */
  onEnd(span: ReadableSpan): void;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Decides whether a new trace (or a child of a remote parent) is recorded. */
export type Sampler = (parent: SpanContext | undefined, traceId: string) => boolean;

/** The default sampler: follow the parent's decision, sample new traces. */
export const parentBasedAlwaysOn: Sampler = (parent) => parent === undefined || (parent.traceFlags & 1) === 1;

// Wall-clock origin of performance.now(), so span times are epoch nanoseconds with sub-ms precision.
const ORIGIN_NS = BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(performance.now() * 1e6));

function nowNs(): bigint {
  return ORIGIN_NS + BigInt(Math.round(performance.now() * 1e6));
}

/** A span being recorded (or, when not sampled, only propagated). */
export class Span implements ReadableSpan {
  readonly context: SpanContext;
  readonly parentSpanId: string | null;
  name: string;
  readonly kind: SpanKindValue;
  readonly startTimeUnixNano: bigint = nowNs();
  endTimeUnixNano: bigint = 0n;
  readonly attributes: Attributes;
  readonly links: readonly SpanLink[];
  statusCode: 0 | 1 | 2 = 0;
  statusMessage = "";
  readonly #exporter: SpanExporter | undefined;

  /** @internal made by {@link Tracer.startSpan}. */
  constructor(
    init: { context: SpanContext; parentSpanId: string | null; name: string; kind: SpanKindValue; attributes?: Attributes; links?: readonly SpanLink[] },
    exporter: SpanExporter | undefined,
  ) {
    this.context = init.context;
    this.parentSpanId = init.parentSpanId;
    this.name = init.name;
    this.kind = init.kind;
    this.attributes = init.attributes ?? {};
    this.links = init.links ?? [];
    this.#exporter = exporter;
  }

  /** Whether it will be exported (the trace is sampled). */
  get recording(): boolean {
    return (this.context.traceFlags & 1) === 1;
  }

  /** Whether {@link Span.end} has run. */
  get ended(): boolean {
    return this.endTimeUnixNano !== 0n;
  }

  /** Sets an attribute (ignored once ended). */
  setAttribute(key: string, value: AttributeValue): this {
    if (!this.ended) this.attributes[key] = value;
    return this;
  }

  /** Marks the span failed with the error's message and type. */
  recordError(error: unknown): this {
    this.statusCode = 2;
    this.statusMessage = error instanceof Error ? error.message : String(error);
    this.setAttribute("error.type", error instanceof Error ? error.name : "Error");
    return this;
  }

  /** Ends the span once and hands it to the exporter when sampled. */
  end(): void {
    if (this.ended) return;
    this.endTimeUnixNano = nowNs();
    if (this.recording) this.#exporter?.onEnd(this);
  }
}

/** Options of {@link Tracer.startSpan}. */
export interface StartSpanOptions {
  /** Default INTERNAL. */
  kind?: SpanKindValue;
  /** The parent: a span, a (remote) span context, `null` for a new root, or the active span when absent. */
  parent?: Span | SpanContext | null;
  /** Initial attributes. */
  attributes?: Attributes;
  /** Links to other spans. */
  links?: readonly SpanLink[];
}

/** Options of {@link Tracer}. */
export interface TracerOptions {
  /** Where sampled spans go; none: spans are only propagated. */
  exporter?: SpanExporter;
  /** Default {@link parentBasedAlwaysOn}. */
  sampler?: Sampler;
}

function contextOf(parent: Span | SpanContext): SpanContext {
  return parent instanceof Span ? parent.context : parent;
}

/**
 * Starts spans and keeps the active one per asynchronous flow
 * (`AsyncLocalStorage`, on Bun and Deno alike), so a store query run by a
 * request handler becomes a child of the request's span.
 *
 * @example
 * ```ts
 * import { Tracer } from "./tracing.ts";
 * const tracer = new Tracer();
 * const rows = await tracer.inSpan("load rows", async (span) => {
 *   span.setAttribute("rows", 3);
 *   return [1, 2, 3];
 * });
 * ```
 */
export class Tracer {
  readonly #storage = new AsyncLocalStorage<Span | undefined>();
  readonly #exporter: SpanExporter | undefined;
  readonly #sampler: Sampler;

  /** Creates a tracer that exports through `options.exporter`. */
  constructor(options: TracerOptions = {}) {
    this.#exporter = options.exporter;
    this.#sampler = options.sampler ?? parentBasedAlwaysOn;
  }

  /** The span active in this asynchronous flow, if it has not ended. */
  active(): Span | undefined {
    const span = this.#storage.getStore();
    return span && !span.ended ? span : undefined;
  }

  /** Starts a span (not made active: see {@link Tracer.withSpan}). */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    const parentOption = options.parent === undefined ? this.active() : options.parent;
    const parent = parentOption === null || parentOption === undefined ? undefined : contextOf(parentOption);
    const traceId = parent?.traceId ?? newTraceId();
    const sampled = this.#sampler(parent, traceId);
    return new Span({
      context: {
        traceId,
        spanId: newSpanId(),
        traceFlags: sampled ? 1 : 0,
        ...(parent?.traceState ? { traceState: parent.traceState } : {}),
      },
      parentSpanId: parent?.spanId ?? null,
      name,
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    }, this.#exporter);
  }

  /** Runs `fn` with `span` active. */
  withSpan<T>(span: Span | undefined, fn: () => T): T {
    return this.#storage.run(span, fn);
  }

  /**
   * Makes `span` active for the rest of the current asynchronous flow (for
   * hooks that cannot wrap what follows them, like a request's first hook).
   */
  enter(span: Span | undefined): void {
    this.#storage.enterWith(span);
  }

  /** Runs `fn` in a new active span that ends when it settles; a throw marks it failed. */
  async inSpan<T>(name: string, fn: (span: Span) => Promise<T> | T, options: StartSpanOptions = {}): Promise<T> {
    const span = this.startSpan(name, options);
    try {
      return await this.#storage.run(span, () => fn(span));
    } catch (error) {
      span.recordError(error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** The `trace_id`/`span_id` log fields of the active span, or undefined. */
  logFields(): { trace_id: string; span_id: string } | undefined {
    const span = this.active();
    return span ? { trace_id: span.context.traceId, span_id: span.context.spanId } : undefined;
  }

  /** Sends buffered spans. */
  flush(): Promise<void> {
    return this.#exporter?.flush() ?? Promise.resolve();
  }

  /** Sends buffered spans and stops exporting. */
  shutdown(): Promise<void> {
    return this.#exporter?.shutdown() ?? Promise.resolve();
  }
}
