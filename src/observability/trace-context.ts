import { getRandomValues } from "node:crypto";

/** The identity of a span as it travels between services (W3C Trace Context). */
export interface SpanContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** Bit 0 set when the trace is sampled. */
  readonly traceFlags: number;
  /** The vendor `tracestate` list, passed on unchanged. */
  readonly traceState?: string;
  /** Whether it came from another process (an incoming `traceparent`). */
  readonly isRemote?: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Reads a `traceparent` header. Returns null for anything malformed, for
 * version `ff`, for all-zero ids, and for version 00 with trailing data, as
 * the W3C recommendation asks (the trace then starts afresh).
 */
export function parseTraceparent(header: string | null, tracestate: string | null = null): SpanContext | null {
  if (header === null) return null;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  const state = tracestate?.trim();
  return {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: parseInt(flags!, 16),
    ...(state ? { traceState: state.slice(0, 512) } : {}),
    isRemote: true,
  };
}

/** The `traceparent` header value of a span context (version 00). */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

const pool = new Uint8Array(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    getRandomValues(pool);
    offset = 0;
  }
  let out = "";
  for (let i = 0; i < bytes; i++) out += pool[offset + i]!.toString(16).padStart(2, "0");
  offset += bytes;
  return out;
}

/** A fresh random trace id (never all zero). */
export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** A fresh random span id (never all zero). */
export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? newSpanId() : id;
}
