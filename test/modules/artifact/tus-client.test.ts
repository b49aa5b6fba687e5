/**
 * The tus server of artifacts against the reference client, `tus-js-client`,
 * over a real socket: an upload sent in several PATCH requests, and one
 * interrupted by the client and resumed from the offset the server reports.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import * as tus from "tus-js-client";
import { artifactsModule } from "../../../src/modules/artifact/mod.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { patterned } from "../../storage/_contract.ts";
import { sqliteFileStore } from "../../_support/stores.ts";
import { HIERARCHY } from "./_fixture.ts";

describe("tus-js-client against the artifact upload server", () => {
  const store = sqliteFileStore();
  let app: ServiceApp;
  let server: RunningServer;
  let origin: string;
  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Resumable" } })
      .withSettings({ env: { LOG_LEVEL: "warn" } })
      .withDatabase(await store.open())
      .module(artifactsModule({ hierarchy: HIERARCHY }))
      .build();
    server = await serve((request) => app.handle(request), { port: 0, hostname: "127.0.0.1" });
    origin = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.stop(100);
    await app.chapkit.close();
    await store.cleanup();
  });

  function send(payload: Uint8Array, options: Partial<tus.UploadOptions> = {}): { upload: tus.Upload; done: Promise<string> } {
    let upload!: tus.Upload;
    const done = new Promise<string>((resolve, reject) => {
      upload = new tus.Upload(Buffer.from(payload), {
        endpoint: `${origin}/api/v1/artifacts/$uploads`,
        chunkSize: 1024 * 1024 + 7,
        retryDelays: [],
        metadata: { filename: "weights.bin", filetype: "application/x-weights" },
        onSuccess: (result) => resolve(result.lastResponse.getHeader("content-location") ?? ""),
        onError: reject,
        ...options,
      });
    });
    return { upload, done };
  }

  it("uploads in several PATCH requests and the artifact holds the bytes with the file's type", async () => {
    const payload = patterned(3 * 1024 * 1024 + 123, 21);
    const { upload, done } = send(payload);
    upload.start();
    const location = await done;
    assert.match(location, /^\/api\/v1\/artifacts\/[0-9A-Z]{26}$/);
    const download = await fetch(`${origin}${location}/$download`);
    assert.equal(download.headers.get("content-type"), "application/x-weights");
    assert.equal(download.headers.get("etag"), `"${createHash("sha256").update(payload).digest("hex")}"`);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), payload);
  });

  it("resumes an upload the client aborted from the offset the server reports", async () => {
    const payload = patterned(4 * 1024 * 1024 + 5, 22);
    let aborted = false;
    const first = send(payload, {
      onChunkComplete: (_size, accepted) => {
        if (accepted >= 2 * 1024 * 1024 && !aborted) {
          aborted = true;
          void first.upload.abort();
        }
      },
    });
    first.upload.start();
    while (!aborted || !first.upload.url) await new Promise((resolve) => setTimeout(resolve, 10));
    const url = first.upload.url;
    const head = await fetch(url, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
    const offset = Number(head.headers.get("upload-offset"));
    assert.ok(offset >= 2 * 1024 * 1024 && offset < payload.byteLength, `offset ${offset}`);
    let started = -1;
    const second = send(payload, { uploadUrl: url, onProgress: (sent) => (started = started < 0 ? sent : started) });
    second.upload.start();
    const location = await second.done;
    assert.ok(started >= offset, "the second client started where the first stopped");
    const download = await fetch(`${origin}${location}/$download`);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), payload);
  });
});
