import assert from "node:assert/strict";
import { it } from "node:test";
import type { BlobStore } from "../../src/storage/blob-store.ts";
import { readAll } from "../../src/storage/_streams.ts";

/** Bytes that differ at every offset of a pattern, so a misplaced range shows. */
export function patterned(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) out[i] = (i * 31 + seed + (i >> 8)) % 251;
  return out;
}

/** A stream of `bytes` in uneven chunks, as a network body arrives. */
export function chunked(bytes: Uint8Array, sizes: readonly number[] = [1, 4093, 65_536, 7]): ReadableStream<Uint8Array> {
  let offset = 0;
  let n = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      const size = sizes[n++ % sizes.length]!;
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

/**
 * The behaviour every {@link BlobStore} backend shares. `store()` gives the
 * backend under test; `large` is a size past its chunk or part size.
 */
export function blobStoreContract(store: () => BlobStore, large: number): void {
  it("stores bytes and reads them back whole and as a stream", async () => {
    const bytes = patterned(10_000);
    assert.deepEqual(await store().put("a/one.bin", bytes), { key: "a/one.bin", size: 10_000 });
    assert.deepEqual(await store().get("a/one.bin"), bytes);
    assert.deepEqual(await readAll((await store().stream("a/one.bin"))!), bytes);
    assert.deepEqual(await store().head("a/one.bin"), { key: "a/one.bin", size: 10_000 });
  });

  it("stores a streamed body larger than one chunk or part, byte for byte", async () => {
    const bytes = patterned(large, 3);
    assert.equal((await store().put("big/blob", chunked(bytes))).size, large);
    assert.deepEqual(await readAll((await store().stream("big/blob"))!), bytes);
  });

  it("reads a byte range, including one that crosses a chunk boundary", async () => {
    const bytes = patterned(large, 5);
    await store().put("ranged", bytes);
    for (const [start, end] of [[0, 0], [10, 99], [large - 5, large - 1], [1024 * 1024 - 3, 1024 * 1024 + 2]] as const) {
      const got = await readAll((await store().stream("ranged", { start, end }))!);
      assert.deepEqual(got, bytes.subarray(start, end + 1), `range ${start}-${end}`);
    }
  });

  it("stores an empty blob", async () => {
    await store().put("empty", new Uint8Array(0));
    assert.deepEqual(await store().get("empty"), new Uint8Array(0));
    assert.equal((await store().head("empty"))?.size, 0);
  });

  it("replaces a blob on a second put", async () => {
    await store().put("replaced", patterned(100, 1));
    await store().put("replaced", patterned(50, 2));
    assert.deepEqual(await store().get("replaced"), patterned(50, 2));
  });

  it("answers null for a blob that does not exist", async () => {
    assert.equal(await store().get("nope/none"), null);
    assert.equal(await store().stream("nope/none"), null);
    assert.equal(await store().head("nope/none"), null);
    assert.equal(await store().delete("nope/none"), false);
  });

  it("deletes a blob", async () => {
    await store().put("gone", patterned(10));
    assert.equal(await store().delete("gone"), true);
    assert.equal(await store().get("gone"), null);
  });

  it("lists blobs under a prefix in key order", async () => {
    await store().put("list/b", patterned(2));
    await store().put("list/a", patterned(1));
    await store().put("list/c/d", patterned(3));
    await store().put("listing", patterned(4));
    const listed = [];
    for await (const info of store().list("list/")) listed.push(info);
    assert.deepEqual(listed, [{ key: "list/a", size: 1 }, { key: "list/b", size: 2 }, { key: "list/c/d", size: 3 }]);
  });

  it("renames a blob, replacing the target", async () => {
    await store().put("from/x", patterned(20, 9));
    await store().put("to/x", patterned(5));
    await store().rename("from/x", "to/x");
    assert.equal(await store().head("from/x"), null);
    assert.deepEqual(await store().get("to/x"), patterned(20, 9));
  });

  it("refuses keys that could escape their place", async () => {
    for (const key of ["../etc/passwd", "/abs", "a//b", "a/../b", "", "sp ace"]) {
      await assert.rejects(store().put(key, patterned(1)), { status: 400 }, key);
    }
  });
}
