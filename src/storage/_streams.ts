import type { BlobBody, ByteRange } from "./blob-store.ts";

/** A stream of `body`: a stream as is, bytes as one chunk. */
export function toStream(body: BlobBody): ReadableStream<Uint8Array> {
  if (!(body instanceof Uint8Array)) return body;
  return new ReadableStream({
    start(controller) {
      if (body.byteLength > 0) controller.enqueue(body);
      controller.close();
    },
  });
}

/** Concatenates chunks into one array. */
export function concat(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total ?? chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a whole stream into memory. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterate(stream)) chunks.push(chunk);
  return concat(chunks);
}

/** Iterates a stream's chunks (releasing the reader when the loop stops early). */
export async function* iterate(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value.byteLength > 0) yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * Re-cuts a body into pieces of exactly `size` bytes (the last may be
 * shorter, and an empty body yields nothing), holding at most one piece.
 */
export async function* pieces(body: BlobBody, size: number): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    for (let offset = 0; offset < body.byteLength; offset += size) yield body.subarray(offset, offset + size);
    return;
  }
  let buffer = new Uint8Array(size);
  let filled = 0;
  for await (let chunk of iterate(body)) {
    while (chunk.byteLength > 0) {
      const take = Math.min(size - filled, chunk.byteLength);
      buffer.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === size) {
        yield buffer;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** A stream of the pieces an async iterable yields. */
export function fromIterable(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** The bytes of `range` out of a stream of the whole (skipping what comes before, stopping after). */
export function sliceStream(stream: ReadableStream<Uint8Array>, range: ByteRange): ReadableStream<Uint8Array> {
  return fromIterable((async function* () {
    let position = 0;
    for await (const chunk of iterate(stream)) {
      const from = Math.max(range.start - position, 0);
      const to = Math.min(range.end + 1 - position, chunk.byteLength);
      position += chunk.byteLength;
      if (to > from) yield chunk.subarray(from, to);
      if (position > range.end) return;
    }
  })());
}

/** Counts and hashes what passes through, handing each chunk on. */
export function tap(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): ReadableStream<Uint8Array> {
  return fromIterable((async function* () {
    for await (const chunk of iterate(stream)) {
      onChunk(chunk);
      yield chunk;
    }
  })());
}
