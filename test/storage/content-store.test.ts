/**
 * Content addressing: payloads stored once under their SHA-256 with a
 * reference count, compressed at rest when asked, collected when no one
 * holds them, on every test store.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { ContentStore } from "../../src/storage/content-store.ts";
import { DatabaseBlobStore } from "../../src/storage/database-blob-store.ts";
import { storageMigrations } from "../../src/storage/migrations.ts";
import { readAll } from "../../src/storage/_streams.ts";
import { testStores } from "../_support/stores.ts";
import { chunked, patterned } from "./_contract.ts";

const csv = new TextEncoder().encode("region,month,cases\n".concat("north,2024-01,12\n".repeat(5000)));

async function count(db: Driver, table: string): Promise<number> {
  const [row] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "${table}"`);
  return Number(row?.n);
}

for (const store of testStores()) {
  describe(`content store on ${store.name}`, () => {
    let db: Driver;
    let blobs: DatabaseBlobStore;
    let content: ContentStore;
    before(async () => {
      db = await store.open();
      await migrate(db, storageMigrations);
      blobs = new DatabaseBlobStore(db, { chunkSize: 64 * 1024 });
      content = new ContentStore({ db, blobs });
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it("names content by the SHA-256 of its bytes", async () => {
      const bytes = patterned(200_000);
      const ref = await content.put(chunked(bytes));
      assert.deepEqual(ref, { digest: createHash("sha256").update(bytes).digest("hex"), size: 200_000 });
      assert.deepEqual(await content.bytes(ref.digest), bytes);
      assert.deepEqual(await blobs.get(ContentStore.keyOf(ref.digest)), bytes);
    });

    it("stores the same bytes once however often they are put", async () => {
      const before = await count(db, "chapkit_blobs");
      const a = await content.put(patterned(5000, 42));
      const b = await content.put(chunked(patterned(5000, 42)));
      assert.equal(a.digest, b.digest);
      assert.equal(await count(db, "chapkit_blobs"), before + 1);
    });

    it("stores the same bytes once when several writers put them at the same moment", async () => {
      const before = await count(db, "chapkit_blobs");
      const refs = await Promise.all(Array.from({ length: 6 }, () => content.put(chunked(patterned(70_000, 77)))));
      assert.equal(new Set(refs.map((ref) => ref.digest)).size, 1);
      assert.equal(await count(db, "chapkit_blobs"), before + 1);
      assert.deepEqual(await content.bytes(refs[0]!.digest), patterned(70_000, 77));
    });

    it("streams a range of the original bytes", async () => {
      const bytes = patterned(300_000, 9);
      const ref = await content.put(bytes);
      assert.deepEqual(await readAll(await content.stream(ref.digest, { start: 65_530, end: 131_080 })), bytes.subarray(65_530, 131_081));
    });

    for (const compression of ["gzip", "zstd"] as const) {
      it(`compresses text at rest with ${compression}, transparently on read`, async () => {
        const packed = new ContentStore({ db, blobs, compression });
        const text = new TextEncoder().encode(`${compression}\n`.concat("x,y,z\n".repeat(20_000)));
        const ref = await packed.put(chunked(text), { contentType: "text/csv" });
        const info = (await packed.info(ref.digest))!;
        assert.equal(info.encoding, compression);
        assert.ok(info.storedSize < info.size / 10, `${info.storedSize} of ${info.size}`);
        assert.deepEqual(await packed.bytes(ref.digest), text);
        assert.deepEqual(await readAll(await packed.stream(ref.digest, { start: 5, end: 40 })), text.subarray(5, 41));
      });
    }

    it("does not compress media types that do not gain from it", async () => {
      const packed = new ContentStore({ db, blobs, compression: "gzip" });
      const ref = await packed.put(patterned(1000, 77), { contentType: "application/onnx" });
      assert.equal((await packed.info(ref.digest))!.encoding, "identity");
    });

    it("collects content whose references are all released, and keeps held content", async () => {
      const held = await content.put(csv, { contentType: "text/csv" });
      const dropped = await content.put(patterned(1234, 5));
      await content.retain(held.digest);
      await content.retain(dropped.digest);
      await content.release(dropped.digest);
      const kept = await content.collect({ graceMs: 60_000 });
      assert.equal(kept.removed, 0, "within the grace period nothing goes");
      const report = await content.collect({ graceMs: -1000 });
      assert.ok(report.removed >= 1);
      assert.equal(await content.info(dropped.digest), null);
      assert.equal(await blobs.head(ContentStore.keyOf(dropped.digest)), null);
      assert.equal((await content.info(held.digest))!.refcount, 1);
      assert.deepEqual(await content.bytes(held.digest), csv);
    });

    it("refuses to retain content that was collected", async () => {
      await assert.rejects(content.retain("0".repeat(64)), { status: 409 });
    });

    it("answers not found for content it does not hold", async () => {
      await assert.rejects(content.stream("f".repeat(64)), { status: 404 });
    });
  });
}
