import assert from "node:assert/strict";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { Elysia } from "elysia";
import { negotiateEncoding } from "../../src/http/compression.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { call } from "../_support/http.ts";

const big = { rows: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `row ${i}`, value: i * 1.5 })) };
const png = new Uint8Array(4096).fill(7);

let app: ServiceApp;
before(async () => {
  app = await new ServiceBuilder({
    info: { display_name: "Hygiene" },
    settings: {
      cors: { enabled: true, origins: ["https://app.example.org"], credentials: true },
      compression: { enabled: true, thresholdBytes: 512 },
      http: { cacheControl: { "GET /small": "public, max-age=60", "GET /image": "no-store" } },
    },
  })
    .withHealth()
    .use(new Elysia()
      .get("/big", () => big)
      .get("/small", () => ({ ok: true }))
      .get("/image", () => new Response(png, { headers: { "content-type": "image/png" } }))
      .get("/jobs/x/$stream", () => new Response(JSON.stringify(big), { headers: { "content-type": "text/event-stream" } }))
      .post("/notes", () => ({ created: true })))
    .build();
});
after(() => app.chapkit.close());

describe("CORS", () => {
  it("is off by default", async () => {
    const plain = await new ServiceBuilder({ info: { display_name: "Plain" } }).withHealth().build();
    try {
      const response = await call(plain, "GET", "/api/v1/health", undefined, { origin: "https://app.example.org" });
      assert.equal(response.headers.get("access-control-allow-origin"), null);
    } finally {
      await plain.chapkit.close();
    }
  });

  it("answers a preflight from an allowed origin with methods, headers, credentials and max-age", async () => {
    const response = await call(app, "OPTIONS", "/notes", undefined, {
      origin: "https://app.example.org",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, x-api-key",
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.org");
    assert.match(response.headers.get("access-control-allow-methods")!, /POST/);
    assert.equal(response.headers.get("access-control-allow-headers"), "content-type, x-api-key");
    assert.equal(response.headers.get("access-control-allow-credentials"), "true");
    assert.equal(response.headers.get("access-control-max-age"), "600");
  });

  it("gives nothing to another origin, and refuses its cross-site writes", async () => {
    const preflight = await call(app, "OPTIONS", "/notes", undefined, { origin: "https://evil.example", "access-control-request-method": "POST" });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    const write = await call(app, "POST", "/notes", {}, { origin: "https://evil.example" });
    assert.equal(write.status, 403);
    assert.equal(write.headers.get("access-control-allow-origin"), null);
  });

  it("lets an allowed origin read and write, exposing the useful fields", async () => {
    const write = await call(app, "POST", "/notes", {}, { origin: "https://app.example.org" });
    assert.equal(write.status, 200);
    assert.equal(write.headers.get("access-control-allow-origin"), "https://app.example.org");
    assert.match(write.headers.get("access-control-expose-headers")!, /RateLimit/);
    assert.match(write.headers.get("vary")!, /Origin/);
  });
});

describe("compression", () => {
  it("negotiates brotli or gzip from Accept-Encoding", () => {
    assert.equal(negotiateEncoding("gzip, deflate, br"), "br");
    assert.equal(negotiateEncoding("gzip;q=1, br;q=0.5"), "gzip");
    assert.equal(negotiateEncoding("br;q=0, gzip"), "gzip");
    assert.equal(negotiateEncoding("identity"), undefined);
    assert.equal(negotiateEncoding(null), undefined);
  });

  it("compresses a large JSON answer with brotli or gzip", async () => {
    for (const [encoding, unpack] of [["br", brotliDecompressSync], ["gzip", gunzipSync]] as const) {
      const response = await call(app, "GET", "/big", undefined, { "accept-encoding": encoding });
      assert.equal(response.headers.get("content-encoding"), encoding);
      assert.match(response.headers.get("vary")!, /Accept-Encoding/);
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.ok(bytes.byteLength < JSON.stringify(big).length / 2);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(unpack(bytes))), big);
    }
  });

  it("leaves small answers, compressed types, streams and clients without Accept-Encoding alone", async () => {
    for (const [path, headers] of [
      ["/small", { "accept-encoding": "gzip" }],
      ["/image", { "accept-encoding": "gzip" }],
      ["/jobs/x/$stream", { "accept-encoding": "gzip" }],
      ["/big", {}],
    ] as const) {
      const response = await call(app, "GET", path, undefined, headers);
      assert.equal(response.headers.get("content-encoding"), null, path);
      await response.arrayBuffer();
    }
  });
});

describe("Cache-Control per route", () => {
  it("is set on successful GETs of the routes a rule names, and nowhere else", async () => {
    const small = await call(app, "GET", "/small");
    assert.equal(small.headers.get("cache-control"), "public, max-age=60");
    assert.equal((await call(app, "GET", "/big")).headers.get("cache-control"), null);
    assert.equal((await call(app, "POST", "/notes", {})).headers.get("cache-control"), null);
  });
});
