/**
 * Every blob backend against the same contract: the database (each test
 * store), a directory, S3 (s3rver, path and virtual-host style) and Azure
 * Blob Storage (Azurite).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { AzureBlobStore } from "../../src/storage/azure-blob-store.ts";
import { DatabaseBlobStore } from "../../src/storage/database-blob-store.ts";
import { FileBlobStore } from "../../src/storage/file-blob-store.ts";
import { storageMigrations } from "../../src/storage/migrations.ts";
import { S3BlobStore } from "../../src/storage/s3-blob-store.ts";
import { readAll } from "../../src/storage/_streams.ts";
import { AZURITE_KEY, type Emulator, startAzurite, startS3rver } from "../_support/emulators.ts";
import { RUNTIME, testStores } from "../_support/stores.ts";
import { blobStoreContract, patterned } from "./_contract.ts";

const MIB = 1024 * 1024;

for (const store of testStores()) {
  describe(`database blob store on ${store.name}`, () => {
    let db: Driver;
    let blobs: DatabaseBlobStore;
    before(async () => {
      db = await store.open();
      await migrate(db, storageMigrations);
      blobs = new DatabaseBlobStore(db, { chunkSize: MIB });
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });
    blobStoreContract(() => blobs, 2 * MIB + 17);

    it("keeps chunks of an interrupted write out of sight and sweeps them", async () => {
      const failing = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(patterned(MIB + 1));
          controller.error(new Error("client went away"));
        },
      });
      await assert.rejects(blobs.put("broken", failing), /client went away/);
      assert.equal(await blobs.head("broken"), null);
      const [row] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_blob_chunks" c WHERE NOT EXISTS (SELECT 1 FROM "chapkit_blobs" b WHERE b."blob_id" = c."blob_id")`);
      assert.equal(Number(row?.n), 0);
    });
  });
}

describe("file blob store", () => {
  const root = mkdtempSync(join(tmpdir(), "chapkit-blobs-"));
  const blobs = new FileBlobStore(root);
  after(() => rmSync(root, { recursive: true, force: true }));
  blobStoreContract(() => blobs, 2 * MIB + 17);

  it("cannot make a presigned URL", async () => {
    assert.equal(await blobs.presign("any"), null);
  });
});

for (const style of ["path", "virtual"] as const) {
  // Deno resolves no *.localhost name (and sets Host itself), so virtual-host style runs on Bun.
  const skip = style === "virtual" && RUNTIME === "deno";
  describe(`S3 blob store (s3rver, ${style} style)`, { skip }, () => {
    let server: Emulator;
    let blobs: S3BlobStore;
    before(async () => {
      server = await startS3rver();
      const endpoint = style === "path" ? server.origin : server.origin.replace("127.0.0.1", "s3.localhost");
      blobs = new S3BlobStore({
        bucket: "test",
        prefix: `${style}/`,
        endpoint,
        style,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        partSize: 5 * MIB,
      });
    }, { timeout: 60_000 });
    after(() => server.stop());
    blobStoreContract(() => blobs, 5 * MIB + 5);

    it("makes presigned URLs that read and write without credentials", async () => {
      await blobs.put("signed", patterned(300));
      const read = await fetch((await blobs.presign("signed"))!);
      assert.equal(read.status, 200);
      assert.deepEqual(new Uint8Array(await read.arrayBuffer()), patterned(300));
      const put = await fetch((await blobs.presign("uploaded", { method: "PUT" }))!, { method: "PUT", body: patterned(40) as Uint8Array<ArrayBuffer> });
      assert.equal(put.status, 200, await put.text());
      assert.deepEqual(await blobs.get("uploaded"), patterned(40));
    });

    it("streams a range of a multipart blob", async () => {
      const bytes = patterned(10 * MIB + 3, 11);
      await blobs.put("parts", bytes);
      const got = await readAll((await blobs.stream("parts", { start: 5 * MIB - 2, end: 5 * MIB + 2 }))!);
      assert.deepEqual(got, bytes.subarray(5 * MIB - 2, 5 * MIB + 3));
    });
  });
}

describe("Azure blob store (Azurite)", () => {
  let server: Emulator;
  let blobs: AzureBlobStore;
  before(async () => {
    server = await startAzurite();
    blobs = new AzureBlobStore({
      account: "devstoreaccount1",
      key: AZURITE_KEY,
      container: "test",
      prefix: "chapkit/",
      endpoint: `${server.origin}/devstoreaccount1`,
      blockSize: MIB,
    });
    await blobs.createContainer();
  }, { timeout: 60_000 });
  after(() => server.stop());
  blobStoreContract(() => blobs, 2 * MIB + 17);

  it("makes SAS URLs that read and write without the key", async () => {
    await blobs.put("signed", patterned(300));
    const read = await fetch((await blobs.presign("signed"))!);
    assert.equal(read.status, 200, await read.clone().text());
    assert.deepEqual(new Uint8Array(await read.arrayBuffer()), patterned(300));
    const put = await fetch((await blobs.presign("uploaded", { method: "PUT" }))!, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: patterned(40) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(put.status, 201, await put.text());
    assert.deepEqual(await blobs.get("uploaded"), patterned(40));
  });

  it("refuses requests signed with a wrong key", async () => {
    const wrong = new AzureBlobStore({
      account: "devstoreaccount1",
      key: btoa("not the account key"),
      container: "test",
      endpoint: `${server.origin}/devstoreaccount1`,
    });
    await assert.rejects(wrong.put("x", patterned(3)), { status: 503, message: /403/ });
    assert.equal(await blobs.head("x"), null);
  });
});
