/**
 * Large transfers of artifact payloads over HTTP: uploads streamed into the
 * content store (never held whole, limit counted on the way), downloads
 * streamed with `ETag` (the SHA-256), `If-None-Match` and `Range`; the
 * backend chosen by `CHAPKIT_STORAGE_URL`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artifactsModule } from "../../../src/modules/artifact/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { chunked, patterned } from "../../storage/_contract.ts";
import { BASE, call, json } from "../../_support/http.ts";
import { testStores } from "../../_support/stores.ts";
import { HIERARCHY } from "./_fixture.ts";

const PAYLOAD = patterned(3 * 1024 * 1024 + 11);
const DIGEST = createHash("sha256").update(PAYLOAD).digest("hex");

function upload(app: ServiceApp, body: Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Promise<Response> {
  return app.handle(new Request(`${BASE}/api/v1/artifacts/$upload`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...headers },
    body: body as Uint8Array<ArrayBuffer>,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit));
}

async function build(env: Record<string, string>, db?: () => Promise<import("../../../src/db/driver.ts").Driver>): Promise<ServiceApp> {
  let builder = new ServiceBuilder({ info: { display_name: "Transfers" } }).withSettings({ env });
  if (db) builder = builder.withDatabase(await db());
  return builder.module(artifactsModule({ hierarchy: HIERARCHY })).build();
}

for (const store of testStores()) {
  describe(`artifact transfers on ${store.name}`, () => {
    let app: ServiceApp;
    let id: string;
    before(async () => {
      app = await build({ CHAPKIT_HTTP_MAX_UPLOAD_BYTES: String(4 * 1024 * 1024) }, () => store.open());
      const created = await json<{ id: string; data: { size: number } }>(await upload(app, chunked(PAYLOAD)), 201);
      id = created.id;
      assert.equal(created.data.size, PAYLOAD.byteLength);
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    it("streams a download whole with its SHA-256 as ETag", async () => {
      const response = await call(app, "GET", `/api/v1/artifacts/${id}/$download`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("etag"), `"${DIGEST}"`);
      assert.equal(response.headers.get("accept-ranges"), "bytes");
      assert.equal(response.headers.get("content-length"), String(PAYLOAD.byteLength));
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), PAYLOAD);
    });

    it("answers 304 to If-None-Match with the current tag", async () => {
      const response = await call(app, "GET", `/api/v1/artifacts/${id}/$download`, undefined, { "if-none-match": `"${DIGEST}"` });
      assert.equal(response.status, 304);
      assert.equal(await response.text(), "");
    });

    it("answers 206 with the bytes of a Range, across chunk boundaries", async () => {
      const start = 1024 * 1024 - 10;
      const response = await call(app, "GET", `/api/v1/artifacts/${id}/$download`, undefined, { range: `bytes=${start}-${start + 99}` });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), `bytes ${start}-${start + 99}/${PAYLOAD.byteLength}`);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), PAYLOAD.subarray(start, start + 100));
    });

    it("answers a suffix range with the last bytes", async () => {
      const response = await call(app, "GET", `/api/v1/artifacts/${id}/$download`, undefined, { range: "bytes=-5" });
      assert.equal(response.status, 206);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), PAYLOAD.subarray(PAYLOAD.byteLength - 5));
    });

    it("answers 416 to a range past the end", async () => {
      const response = await call(app, "GET", `/api/v1/artifacts/${id}/$download`, undefined, { range: `bytes=${PAYLOAD.byteLength}-` });
      assert.equal(response.status, 416);
      assert.equal(response.headers.get("content-range"), `bytes */${PAYLOAD.byteLength}`);
      assert.equal((await response.json()).type, "urn:chapkit:error:range-not-satisfiable");
    });

    it("stores the bytes of a second upload of the same payload once", async () => {
      const db = app.chapkit.context.db;
      const [before] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_content"`);
      const second = await json<{ id: string }>(await upload(app, PAYLOAD), 201);
      const [after] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_content"`);
      assert.equal(Number(after?.n), Number(before?.n));
      const [row] = await db.query<{ refcount: number | string }>(`SELECT "refcount" FROM "chapkit_content" WHERE "digest" = ?`, [DIGEST]);
      assert.equal(Number(row?.refcount), 2);
      assert.equal((await call(app, "DELETE", `/api/v1/artifacts/${second.id}`)).status, 204);
      const [released] = await db.query<{ refcount: number | string }>(`SELECT "refcount" FROM "chapkit_content" WHERE "digest" = ?`, [DIGEST]);
      assert.equal(Number(released?.refcount), 1);
    });

    it("refuses a streamed upload past the limit with 413 and keeps nothing of it", async () => {
      const db = app.chapkit.context.db;
      const count = async () => Number((await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_blob_chunks"`))[0]?.n);
      const chunks = await count();
      const response = await upload(app, chunked(patterned(5 * 1024 * 1024, 1), [65_536]));
      assert.equal(response.status, 413, await response.clone().text());
      assert.equal((await response.json()).type, "urn:chapkit:error:payload-too-large");
      assert.equal(await count(), chunks);
    });
  });
}

describe("artifact payloads in the directory CHAPKIT_STORAGE_URL names", () => {
  const root = mkdtempSync(join(tmpdir(), "chapkit-storage-"));
  let app: ServiceApp;
  before(async () => {
    app = await build({ CHAPKIT_STORAGE_URL: `file://${root}`, CHAPKIT_STORAGE_COMPRESSION: "gzip" });
  });
  after(async () => {
    await app.chapkit.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("writes the payload as a file named by its digest, compressed when compressible, and reads it back", async () => {
    const text = new TextEncoder().encode("month,cases\n".concat("2024-01,3\n".repeat(10_000)));
    const digest = createHash("sha256").update(text).digest("hex");
    const created = await json<{ id: string }>(await upload(app, text, { "content-type": "text/csv" }), 201);
    assert.deepEqual(readdirSync(join(root, "sha256", digest.slice(0, 2))), [`${digest}.gz`]);
    const response = await call(app, "GET", `/api/v1/artifacts/${created.id}/$download`, undefined, { range: "bytes=12-21" });
    assert.equal(response.status, 206);
    assert.equal(await response.text(), "2024-01,3\n");
  });

  it("refuses to start on a storage URL it cannot use, naming the setting", async () => {
    await assert.rejects(build({ CHAPKIT_STORAGE_URL: "ftp://example.org/x" }), /CHAPKIT_STORAGE_URL.*unknown scheme/);
  });
});
