/**
 * Resumable uploads of artifact payloads over the tus 1.0 protocol, spoken
 * as raw HTTP: creation with `Upload-Length` and `Upload-Metadata`, `HEAD`
 * for the offset, `PATCH` at `Upload-Offset` (409 elsewhere), a request
 * broken off keeping its whole parts, the last byte creating the artifact,
 * termination, expiry by the `storage.collect` job, and problems for bad
 * requests.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { stepJobs } from "chapkit/testing";
import { artifactsModule } from "../../../src/modules/artifact/mod.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { COLLECT_JOB } from "../../../src/modules/storage/collect-job.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { patterned } from "../../storage/_contract.ts";
import { BASE, call, json } from "../../_support/http.ts";
import { testStores } from "../../_support/stores.ts";
import { HIERARCHY } from "./_fixture.ts";

const TUS = { "tus-resumable": "1.0.0" };
const PATCH_TYPE = { "content-type": "application/offset+octet-stream" };
const b64 = (text: string) => btoa(text);

function tus(app: ServiceApp, method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<Response> {
  return app.handle(new Request(path.startsWith("http") ? path : `${BASE}${path}`, {
    method,
    headers: { ...TUS, ...headers },
    ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit));
}

async function create(app: ServiceApp, length: number, metadata = ""): Promise<string> {
  const response = await tus(app, "POST", "/api/v1/artifacts/$uploads", {
    "upload-length": String(length),
    ...(metadata ? { "upload-metadata": metadata } : {}),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return response.headers.get("location")!;
}

for (const store of testStores()) {
  describe(`tus uploads of artifacts on ${store.name}`, () => {
    let app: ServiceApp;
    before(async () => {
      app = await new ServiceBuilder({ info: { display_name: "Resumable" } })
        .withSettings({ env: { CHAPKIT_HTTP_MAX_UPLOAD_BYTES: String(16 * 1024 * 1024), LOG_LEVEL: "warn" } })
        .withDatabase(await store.open())
        .withJobs({ manual: true })
        .module(artifactsModule({ hierarchy: HIERARCHY }))
        .build();
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    it("answers discovery with the version, extensions and largest size", async () => {
      const response = await app.handle(new Request(`${BASE}/api/v1/artifacts/$uploads`, { method: "OPTIONS" }));
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("tus-version"), "1.0.0");
      assert.equal(response.headers.get("tus-extension"), "creation,creation-with-upload,termination,expiration");
      assert.equal(response.headers.get("tus-max-size"), String(16 * 1024 * 1024));
    });

    it("creates an upload, resumes it at the offset HEAD reports, and makes the artifact from the last byte", async () => {
      const payload = patterned(3 * 1024 * 1024 + 17, 11);
      const url = await create(app, payload.byteLength, `filename ${b64("series.bin")},content_type ${b64("application/x-series")}`);
      assert.match(url, /^http:\/\/localhost\/api\/v1\/artifacts\/\$uploads\/[0-9A-Z]{26}$/);
      const head = await tus(app, "HEAD", url);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("upload-offset"), "0");
      assert.equal(head.headers.get("upload-length"), String(payload.byteLength));
      assert.equal(head.headers.get("cache-control"), "no-store");
      assert.equal(head.headers.get("tus-resumable"), "1.0.0");

      const first = await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, payload.subarray(0, 1_000_000));
      assert.equal(first.status, 204);
      assert.equal(first.headers.get("upload-offset"), "1000000");
      assert.ok(first.headers.get("upload-expires"));
      assert.equal(first.headers.get("content-location"), null);
      assert.equal((await tus(app, "HEAD", url)).headers.get("upload-offset"), "1000000");

      const last = await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "1000000" }, payload.subarray(1_000_000));
      assert.equal(last.status, 204);
      assert.equal(last.headers.get("upload-offset"), String(payload.byteLength));
      const location = last.headers.get("content-location")!;
      assert.match(location, /^\/api\/v1\/artifacts\/[0-9A-Z]{26}$/);
      const artifact = await json<{ data: { content_type: string; size: number } }>(await call(app, "GET", location), 200);
      assert.equal(artifact.data.content_type, "application/x-series");
      assert.equal(artifact.data.size, payload.byteLength);
      const download = await call(app, "GET", `${location}/$download`);
      assert.equal(download.headers.get("etag"), `"${createHash("sha256").update(payload).digest("hex")}"`);
      assert.deepEqual(new Uint8Array(await download.arrayBuffer()), payload);
      assert.equal((await tus(app, "HEAD", url)).headers.get("content-location"), location, "a finished upload names its artifact");
      const [parts] = await app.chapkit.context.db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_blobs" WHERE "key" LIKE 'uploads/%'`);
      assert.equal(Number(parts?.n ?? 0), 0, "the parts are gone once the artifact holds the content");
    });

    it("creates with the first bytes in the creation request and places the artifact under parent_id", async () => {
      const parent = await json<{ id: string }>(await call(app, "POST", "/api/v1/artifacts", { data: { name: "parent" } }), 201);
      const payload = patterned(4000, 2);
      const response = await tus(app, "POST", "/api/v1/artifacts/$uploads", {
        ...PATCH_TYPE,
        "upload-length": String(payload.byteLength),
        "upload-metadata": `parent_id ${b64(parent.id)}`,
      }, payload);
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("upload-offset"), String(payload.byteLength));
      const artifact = await json<{ parent_id: string; level: number }>(await call(app, "GET", response.headers.get("content-location")!), 200);
      assert.equal(artifact.parent_id, parent.id);
      assert.equal(artifact.level, 1);
    });

    it("keeps the whole parts of a request broken off, so the client resumes from there", async () => {
      const payload = patterned(20 * 1024 * 1024 + 3, 5);
      const app2 = app;
      const url = await create(app2, 12 * 1024 * 1024);
      let sent = 0;
      const broken = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 9 * 1024 * 1024) return controller.error(new Error("connection reset"));
          controller.enqueue(payload.slice(sent, sent + 1024 * 1024));
          sent += 1024 * 1024;
        },
      });
      const response = await tus(app2, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, broken).catch((error: unknown) => error);
      if (response instanceof Response) assert.ok(response.status >= 400);
      const offset = Number((await tus(app2, "HEAD", url)).headers.get("upload-offset"));
      assert.equal(offset, 8 * 1024 * 1024, "one whole 8 MiB part was kept");
      const rest = await tus(app2, "PATCH", url, { ...PATCH_TYPE, "upload-offset": String(offset) }, payload.subarray(offset, 12 * 1024 * 1024));
      assert.equal(rest.status, 204);
      const download = await call(app2, "GET", `${rest.headers.get("content-location")}/$download`);
      assert.deepEqual(new Uint8Array(await download.arrayBuffer()), payload.subarray(0, 12 * 1024 * 1024));
    });

    it("refuses a PATCH at another offset than the upload's with 409", async () => {
      const url = await create(app, 100);
      await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, patterned(10));
      const response = await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, patterned(10));
      assert.equal(response.status, 409);
      assert.equal((await response.json()).type, "urn:chapkit:error:conflict");
    });

    it("refuses bytes past Upload-Length with 400", async () => {
      const url = await create(app, 10);
      const response = await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, patterned(11));
      assert.equal(response.status, 400);
      assert.match((await response.json()).detail, /Upload-Length/);
    });

    it("refuses a PATCH body of another media type with 415", async () => {
      const url = await create(app, 10);
      const response = await tus(app, "PATCH", url, { "content-type": "application/octet-stream", "upload-offset": "0" }, patterned(10));
      assert.equal(response.status, 415);
      assert.equal((await response.json()).type, "urn:chapkit:error:unsupported-media-type");
    });

    it("refuses requests without Tus-Resumable: 1.0.0 with 412 naming the version", async () => {
      const response = await app.handle(new Request(`${BASE}/api/v1/artifacts/$uploads`, { method: "POST", headers: { "upload-length": "5" } }));
      assert.equal(response.status, 412);
      assert.equal(response.headers.get("tus-version"), "1.0.0");
      assert.equal((await response.json()).type, "urn:chapkit:error:precondition-failed");
    });

    it("refuses a creation without Upload-Length, past the largest size, or with bad metadata", async () => {
      const missing = await tus(app, "POST", "/api/v1/artifacts/$uploads");
      assert.equal(missing.status, 400);
      assert.match((await missing.json()).detail, /Upload-Length/);
      const big = await tus(app, "POST", "/api/v1/artifacts/$uploads", { "upload-length": String(16 * 1024 * 1024 + 1) });
      assert.equal(big.status, 413);
      const metadata = await tus(app, "POST", "/api/v1/artifacts/$uploads", { "upload-length": "5", "upload-metadata": "a b c" });
      assert.equal(metadata.status, 400);
      const parent = await tus(app, "POST", "/api/v1/artifacts/$uploads", { "upload-length": "5", "upload-metadata": `parent_id ${b64("nope")}` });
      assert.equal(parent.status, 422);
    });

    it("terminates an upload: DELETE answers 204, then the upload is gone (404)", async () => {
      const url = await create(app, 50);
      await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, patterned(20));
      assert.equal((await tus(app, "DELETE", url)).status, 204);
      const head = await tus(app, "HEAD", url);
      assert.equal(head.status, 404);
      const patch = await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "20" }, patterned(5));
      assert.equal(patch.status, 404);
    });

    it("lets the storage.collect job remove uploads untouched past storage.uploadExpiryMs", async () => {
      const url = await create(app, 50);
      await tus(app, "PATCH", url, { ...PATCH_TYPE, "upload-offset": "0" }, patterned(20));
      const id = url.slice(url.lastIndexOf("/") + 1);
      const old = new Date(Date.now() - 2 * 86_400_000).toISOString();
      await app.chapkit.context.db.exec(`UPDATE "chapkit_uploads" SET "updated_at" = ? WHERE "id" = ?`, [old, id]);
      await app.chapkit.context.get<JobRunner>("jobs").enqueue(COLLECT_JOB, {});
      assert.equal((await stepJobs(app).next())?.status, "completed");
      assert.equal((await tus(app, "HEAD", url)).status, 404);
      const [parts] = await app.chapkit.context.db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "chapkit_blobs" WHERE "key" LIKE ?`, [`uploads/${id}/%`]);
      assert.equal(Number(parts?.n ?? 0), 0);
    });
  });
}
