import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { RunningService } from "../../src/service/listen.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { functionalRunner } from "../../src/modules/ml/engine/functional-runner.ts";

type Json = Record<string, unknown>;
const KIB = 1024;

/** A body of `chunks` chunks of 1 KiB that counts how much of it was pulled. */
function countedStream(chunks: number, fill = 0x20): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= chunks * KIB) return controller.close();
      const chunk = new Uint8Array(KIB).fill(fill);
      if (sent === 0) chunk[0] = 0x5b; // "["
      sent += KIB;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => sent };
}

function streamed(url: string, stream: ReadableStream<Uint8Array>, contentType = "application/json"): Request {
  return new Request(url, { method: "POST", headers: { "content-type": contentType }, body: stream, duplex: "half" } as RequestInit);
}

async function problemOf(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
  return JSON.parse(text) as Json;
}

describe("body limits are counted while reading", () => {
  let app: ServiceApp;

  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Limits" }, bodyLimits: { json: 4 * KIB, upload: 8 * KIB } })
      .withConfig(Type.Object({}, { additionalProperties: true }))
      .withArtifacts({ hierarchy: { name: "h", level_labels: {} } })
      .build();
  });
  after(() => app.chapkit.close());

  test("a chunked JSON body past the limit is a 413 problem before it is read whole", async () => {
    const body = countedStream(1024);
    const problem = await problemOf(await app.handle(streamed("http://localhost/api/v1/config", body.stream)), 413);
    assert.equal(problem.type, "urn:chapkit:error:payload-too-large");
    assert.ok(body.pulled() <= 8 * KIB, `read ${body.pulled()} bytes of 1 MiB`);
    assert.deepEqual(await (await app.handle(new Request("http://localhost/api/v1/config"))).json(), []);
  });

  test("a body whose Content-Length lies is still stopped at the limit", async () => {
    const body = countedStream(64);
    const request = new Request("http://localhost/api/v1/config", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "10" },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    await problemOf(await app.handle(request), 413);
    assert.ok(body.pulled() <= 8 * KIB);
  });

  test("$upload has its own limit and counts raw bodies too", async () => {
    const small = await app.handle(new Request("http://localhost/api/v1/artifacts/$upload", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(6 * KIB),
    }));
    assert.equal(small.status, 201, await small.text());
    const body = countedStream(1024);
    await problemOf(await app.handle(streamed("http://localhost/api/v1/artifacts/$upload", body.stream, "application/octet-stream")), 413);
    assert.ok(body.pulled() <= 16 * KIB);
  });
});

describe("ML operations take larger bodies", () => {
  let app: ServiceApp;

  before(async () => {
    const runner = functionalRunner({ onTrain: () => ({}), onPredict: (input) => input.future });
    app = await new ServiceBuilder({ info: { display_name: "ML limits" }, bodyLimits: { json: 1 * KIB, ml: 16 * KIB } })
      .withConfig(Type.Object({}, { additionalProperties: true }))
      .withArtifacts({ hierarchy: { name: "ml", level_labels: {} }, enableConfigLinking: true })
      .withJobs()
      .withMl(runner)
      .build();
  });
  after(() => app.chapkit.close());

  const train = (bytes: number): Promise<Response> =>
    app.handle(new Request("http://localhost/api/v1/ml/$train", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ config_id: "01K72P5N5KCRM6MD3BRE4P0999", data: { columns: ["x"], data: [["y".repeat(bytes)]] } }),
    }));

  test("a $train body above the JSON limit but within the ML limit is read", async () => {
    const response = await train(8 * KIB);
    assert.notEqual(response.status, 413, await response.text());
  });

  test("a $train body above the ML limit is a 413 problem", async () => {
    await problemOf(await train(32 * KIB), 413);
  });
});

describe("the HTTP server's own limit", () => {
  let running: RunningService;

  before(async () => {
    running = await new ServiceBuilder({ info: { display_name: "Server limit" }, bodyLimits: { json: 2 * KIB, ml: 4 * KIB, upload: 4 * KIB } })
      .withConfig(Type.Object({}, { additionalProperties: true }))
      // The code's in-memory store, not the suite's DATABASE_URL (listen() reads the environment over the code).
      .withSettings({ env: {} })
      .listen(0, { handleSignals: false });
  });
  after(() => running.stop());

  test("a chunked body over a real socket is a 413 problem", async () => {
    const body = countedStream(256);
    const response = await fetch(streamed(`${running.url}/api/v1/config`, body.stream));
    await problemOf(response, 413);
  });

  test("a declared Content-Length above every limit is a 413", async () => {
    const response = await fetch(`${running.url}/api/v1/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(64 * KIB),
    });
    assert.equal(response.status, 413);
    await response.body?.cancel();
  });

  test("a body within its route's limit over a real socket is read whole and stored as sent", async () => {
    const data = { note: "é".repeat(400), list: Array.from({ length: 50 }, (_, i) => i) };
    const response = await fetch(`${running.url}/api/v1/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "framed", data }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const created = (await response.json()) as Json;
    const stored = (await (await fetch(`${running.url}/api/v1/config/${created.id}`)).json()) as Json;
    assert.deepEqual(stored.data, data);
  });

  test("a Content-Length past the route's limit but within the server's is a 413 problem, and nothing is stored", async () => {
    const before = (await (await fetch(`${running.url}/api/v1/config`)).json()) as Json[];
    const response = await fetch(`${running.url}/api/v1/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "too-big", data: { pad: "x".repeat(3 * KIB) } }),
    });
    const problem = await problemOf(response, 413);
    assert.match(String(problem.detail), /exceeds 2048 bytes/);
    assert.deepEqual(await (await fetch(`${running.url}/api/v1/config`)).json(), before);
  });

  test("the server listens on 127.0.0.1 unless told otherwise", () => {
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
