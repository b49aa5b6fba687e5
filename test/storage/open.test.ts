/** `storage.url` (CHAPKIT_STORAGE_URL): which backend each URL opens, and the mistakes refused at start-up. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import { AzureBlobStore } from "../../src/storage/azure-blob-store.ts";
import { DatabaseBlobStore } from "../../src/storage/database-blob-store.ts";
import { FileBlobStore } from "../../src/storage/file-blob-store.ts";
import { openBlobStore } from "../../src/storage/open.ts";
import { S3BlobStore } from "../../src/storage/s3-blob-store.ts";

describe("openBlobStore", () => {
  let db: Driver;
  before(async () => {
    db = await openDatabase("sqlite::memory:");
  });
  after(() => db.close());
  const keys = { accessKeyId: "AKID", secretAccessKey: "SECRET", azureAccountKey: btoa("key") };

  it("opens the database backend for db:", () => {
    assert.ok(openBlobStore("db:", { db }) instanceof DatabaseBlobStore);
  });

  it("opens a directory for file:", () => {
    const store = openBlobStore("file:///var/lib/chapkit/blobs", { db });
    assert.ok(store instanceof FileBlobStore);
    assert.equal(store.root, "/var/lib/chapkit/blobs");
  });

  it("opens S3 with the keys from settings, path style with an endpoint", async () => {
    const store = openBlobStore("s3://models/chapkit?endpoint=http://127.0.0.1:9000&region=eu-west-1", { db, settings: keys });
    assert.ok(store instanceof S3BlobStore);
    assert.match((await store.presign("a/b"))!, /^http:\/\/127\.0\.0\.1:9000\/models\/chapkit\/a\/b\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F\d{8}%2Feu-west-1%2Fs3/);
  });

  it("opens S3 virtual-host style on AWS", async () => {
    const store = openBlobStore("s3://models", { db, settings: keys });
    assert.match((await store.presign("x"))!, /^https:\/\/models\.s3\.us-east-1\.amazonaws\.com\/x\?/);
  });

  it("opens Azure Blob Storage with the account key from settings", () => {
    assert.ok(openBlobStore("azure://payloads/chapkit?account=acme", { db, settings: keys }) instanceof AzureBlobStore);
  });

  for (const [url, message] of [
    ["ftp://host/x", /unknown scheme/],
    ["s3://bucket", /needs credentials/],
    ["s3://AKID:SECRET@bucket", /must not carry a secret/],
    ["s3://bucket?style=sideways", /style must be path or virtual/],
    ["azure://container", /needs the account/],
    ["not a url", /is not a URL/],
  ] as const) {
    it(`refuses ${url}`, () => {
      assert.throws(() => openBlobStore(url, { db, ...(url.includes("sideways") ? { settings: keys } : {}) }), (error: Error & { status?: number }) => {
        assert.match(error.message, message);
        assert.match(error.message, /CHAPKIT_STORAGE_URL/);
        assert.doesNotMatch(error.message, /:SECRET@/);
        return true;
      });
    });
  }
});
