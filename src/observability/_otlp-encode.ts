// OTLP trace export bodies (ExportTraceServiceRequest) in both HTTP encodings:
// OTLP/JSON (hex ids, int64 as strings, enums as numbers) and binary protobuf.
import { ProtoWriter } from "../core/protobuf.ts";
import type { AttributeValue, Attributes, ReadableSpan } from "./tracing.ts";

/** What the exported batch says about its origin. */
export interface ExportResource {
  /** Resource attributes (`service.name`, …). */
  attributes: Attributes;
  /** Instrumentation scope name and version. */
  scope: { name: string; version: string };
}

function jsonValue(value: AttributeValue): Record<string, unknown> {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function jsonAttributes(attributes: Attributes): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: jsonValue(value) }));
}

/** The OTLP/JSON body of a batch of spans. */
export function encodeJson(spans: readonly ReadableSpan[], resource: ExportResource): string {
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: jsonAttributes(resource.attributes) },
      scopeSpans: [{
        scope: resource.scope,
        spans: spans.map((span) => ({
          traceId: span.context.traceId,
          spanId: span.context.spanId,
          ...(span.context.traceState ? { traceState: span.context.traceState } : {}),
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          name: span.name,
          kind: span.kind,
          startTimeUnixNano: String(span.startTimeUnixNano),
          endTimeUnixNano: String(span.endTimeUnixNano),
          attributes: jsonAttributes(span.attributes),
          links: span.links.map((link) => ({
            traceId: link.context.traceId,
            spanId: link.context.spanId,
            attributes: jsonAttributes(link.attributes ?? {}),
          })),
          status: span.statusCode === 0 ? {} : { code: span.statusCode, ...(span.statusMessage ? { message: span.statusMessage } : {}) },
          flags: span.context.traceFlags & 0xff,
        })),
      }],
    }],
  });
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// KeyValue { key = 1; AnyValue value = 2 }; AnyValue { string = 1; bool = 2; int64 = 3; double = 4 }
function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const [key, value] of Object.entries(attributes)) {
    w.message(field, (kv) => {
      kv.string(1, key);
      kv.message(2, (any) => {
        if (typeof value === "string") any.string(1, value);
        else if (typeof value === "boolean") any.int(2, value ? 1 : 0);
        else if (Number.isInteger(value)) any.int(3, BigInt(value));
        else any.double(4, value);
      });
    });
  }
}

/** A string field, left out when empty (the protobuf default). */
function text(w: ProtoWriter, field: number, value: string): void {
  if (value !== "") w.string(field, value);
}

/** The protobuf body (`application/x-protobuf`) of a batch of spans. */
export function encodeProtobuf(spans: readonly ReadableSpan[], resource: ExportResource): Uint8Array {
  const w = new ProtoWriter();
  // ExportTraceServiceRequest.resource_spans = 1
  w.message(1, (rs) => {
    rs.message(1, (res) => writeAttributes(res, 1, resource.attributes)); // Resource.attributes = 1
    rs.message(2, (ss) => { // ResourceSpans.scope_spans = 2
      ss.message(1, (scope) => {
        text(scope, 1, resource.scope.name);
        text(scope, 2, resource.scope.version);
      });
      for (const span of spans) {
        ss.message(2, (s) => { // ScopeSpans.spans = 2
          s.bytes(1, hexBytes(span.context.traceId));
          s.bytes(2, hexBytes(span.context.spanId));
          text(s, 3, span.context.traceState ?? "");
          if (span.parentSpanId) s.bytes(4, hexBytes(span.parentSpanId));
          text(s, 5, span.name);
          s.int(6, span.kind);
          s.fixed64(7, span.startTimeUnixNano);
          s.fixed64(8, span.endTimeUnixNano);
          writeAttributes(s, 9, span.attributes);
          for (const link of span.links) {
            s.message(13, (l) => {
              l.bytes(1, hexBytes(link.context.traceId));
              l.bytes(2, hexBytes(link.context.spanId));
              writeAttributes(l, 4, link.attributes ?? {});
            });
          }
          s.message(15, (status) => { // Status { message = 2; code = 3 }
            text(status, 2, span.statusMessage);
            if (span.statusCode !== 0) status.int(3, span.statusCode);
          });
          s.fixed32(16, span.context.traceFlags & 0xff);
        });
      }
    });
  });
  return w.finish();
}
