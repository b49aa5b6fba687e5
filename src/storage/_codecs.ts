import * as zlib from "node:zlib";
import { fromIterable, iterate } from "./_streams.ts";

/** How stored bytes are encoded at rest. */
export type ContentEncoding = "identity" | "gzip" | "zstd";

interface NodeTransform extends AsyncIterable<Uint8Array> {
  write(chunk: Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
  end(): unknown;
  destroy(error?: Error): unknown;
}

function throughNode(source: ReadableStream<Uint8Array>, transform: NodeTransform): ReadableStream<Uint8Array> {
  void (async () => {
    try {
      for await (const chunk of iterate(source)) {
        if (!transform.write(chunk)) await new Promise<void>((resolve) => transform.once("drain", resolve));
      }
      transform.end();
    } catch (error) {
      transform.destroy(error as Error);
    }
  })();
  return fromIterable((async function* () {
    for await (const chunk of transform) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  })());
}

function zstd(name: "createZstdCompress" | "createZstdDecompress"): NodeTransform {
  const make = (zlib as unknown as Record<string, (() => NodeTransform) | undefined>)[name];
  if (!make) throw new Error("zstd compression needs a runtime whose node:zlib has it (Bun ≥ 1.2, Deno ≥ 2.4, Node.js ≥ 22.15); use gzip");
  return make();
}

/** The stream encoded for rest (`identity`: unchanged). */
export function encode(stream: ReadableStream<Uint8Array>, encoding: ContentEncoding): ReadableStream<Uint8Array> {
  if (encoding === "gzip") return stream.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  if (encoding === "zstd") return throughNode(stream, zstd("createZstdCompress"));
  return stream;
}

/** The stored stream decoded back to the original bytes. */
export function decode(stream: ReadableStream<Uint8Array>, encoding: ContentEncoding): ReadableStream<Uint8Array> {
  if (encoding === "gzip") return stream.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  if (encoding === "zstd") return throughNode(stream, zstd("createZstdDecompress"));
  return stream;
}

const COMPRESSIBLE = /^(text\/|application\/(json|xml|csv|x-ndjson|ndjson|yaml|x-yaml|javascript|geo\+json|sql|x-sql)\b)|[+/](json|xml|yaml|csv)\b/i;

/** Whether a media type is worth compressing at rest (text, JSON, XML, CSV, YAML…; not images, archives, models). */
export function isCompressible(contentType: string | undefined): boolean {
  return contentType !== undefined && COMPRESSIBLE.test(contentType);
}
