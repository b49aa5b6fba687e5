// A stand-alone OTLP/HTTP trace receiver for the tracing tests, run as its own
// process. It accepts POST /v1/traces in OTLP/JSON and binary protobuf, decodes
// every span with its own small protobuf reader (independent of chapkit's
// encoder), and prints one line per span: `span <json>`. First line: `listening <port>`.
import { createServer } from "node:http";

interface Field {
  no: number;
  wire: number;
  value: bigint | Uint8Array;
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) {
      out.push({ no, wire, value: new DataView(buf.buffer, buf.byteOffset + i, 8).getBigUint64(0, true) });
      i += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(new DataView(buf.buffer, buf.byteOffset + i, 4).getUint32(0, true)) });
      i += 4;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + length) });
      i += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (value: Field["value"]): string => new TextDecoder().decode(value as Uint8Array);
const hex = (value: Field["value"]): string => [...(value as Uint8Array)].map((b) => b.toString(16).padStart(2, "0")).join("");

function anyValue(buf: Uint8Array): unknown {
  const field = fields(buf)[0];
  if (!field) return null;
  if (field.no === 1) return text(field.value);
  if (field.no === 2) return field.value === 1n;
  if (field.no === 3) return Number(BigInt.asIntN(64, field.value as bigint));
  if (field.no === 4) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, field.value as bigint, true);
    return new DataView(bytes.buffer).getFloat64(0, true);
  }
  return null;
}

function keyValues(list: Field[], no: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of list.filter((f) => f.no === no)) {
    const kv = fields(field.value as Uint8Array);
    const key = kv.find((f) => f.no === 1);
    const value = kv.find((f) => f.no === 2);
    if (key) out[text(key.value)] = value ? anyValue(value.value as Uint8Array) : null;
  }
  return out;
}

function decodeProtobuf(body: Uint8Array): Record<string, unknown>[] {
  const spans: Record<string, unknown>[] = [];
  for (const rs of fields(body).filter((f) => f.no === 1)) {
    const rsFields = fields(rs.value as Uint8Array);
    const resourceField = rsFields.find((f) => f.no === 1);
    const resource = resourceField ? keyValues(fields(resourceField.value as Uint8Array), 1) : {};
    for (const ss of rsFields.filter((f) => f.no === 2)) {
      for (const s of fields(ss.value as Uint8Array).filter((f) => f.no === 2)) {
        const sf = fields(s.value as Uint8Array);
        const one = (no: number) => sf.find((f) => f.no === no);
        const status = one(15) ? fields(one(15)!.value as Uint8Array) : [];
        spans.push({
          traceId: hex(one(1)!.value),
          spanId: hex(one(2)!.value),
          traceState: one(3) ? text(one(3)!.value) : "",
          parentSpanId: one(4) ? hex(one(4)!.value) : "",
          name: text(one(5)!.value),
          kind: Number(one(6)?.value ?? 0n),
          start: String(one(7)!.value),
          end: String(one(8)!.value),
          attributes: keyValues(sf, 9),
          links: sf.filter((f) => f.no === 13).map((l) => {
            const lf = fields(l.value as Uint8Array);
            return { traceId: hex(lf.find((f) => f.no === 1)!.value), spanId: hex(lf.find((f) => f.no === 2)!.value) };
          }),
          statusCode: Number(status.find((f) => f.no === 3)?.value ?? 0n),
          resource,
          encoding: "protobuf",
        });
      }
    }
  }
  return spans;
}

type JsonKv = { key: string; value: Record<string, unknown> };
function jsonAttributes(list: JsonKv[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = "stringValue" in value ? value.stringValue
      : "intValue" in value ? Number(value.intValue)
      : "boolValue" in value ? value.boolValue
      : "doubleValue" in value ? value.doubleValue
      : null;
  }
  return out;
}

function decodeJson(body: string): Record<string, unknown>[] {
  const parsed = JSON.parse(body) as { resourceSpans: { resource: { attributes: JsonKv[] }; scopeSpans: { spans: Record<string, any>[] }[] }[] };
  const spans: Record<string, unknown>[] = [];
  for (const rs of parsed.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          traceState: s.traceState ?? "",
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          start: s.startTimeUnixNano,
          end: s.endTimeUnixNano,
          attributes: jsonAttributes(s.attributes),
          links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
          statusCode: s.status?.code ?? 0,
          resource: jsonAttributes(rs.resource.attributes),
          encoding: "json",
        });
      }
    }
  }
  return spans;
}

const server = createServer((request, response) => {
  const chunks: Uint8Array[] = [];
  request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  request.on("end", () => {
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    if (request.method !== "POST" || request.url !== "/v1/traces") {
      response.writeHead(404).end();
      return;
    }
    try {
      const type = request.headers["content-type"] ?? "";
      const spans = type.includes("json") ? decodeJson(new TextDecoder().decode(body)) : decodeProtobuf(body);
      for (const span of spans) process.stdout.write(`span ${JSON.stringify(span)}\n`);
      response.writeHead(200, { "content-type": type.includes("json") ? "application/json" : "application/x-protobuf" }).end(
        type.includes("json") ? "{}" : "",
      );
    } catch (error) {
      process.stdout.write(`error ${String(error)}\n`);
      response.writeHead(400).end();
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : 0}\n`);
});
