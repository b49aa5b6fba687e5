import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../src/db/driver.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { testStores } from "../_support/stores.ts";

type Json = Record<string, unknown>;

function build(db: Driver, options: { allowedOrigins?: string[] } = {}): Promise<ServiceApp> {
  return new ServiceBuilder({ info: { display_name: "Crafted" }, ...options })
    .withDatabase(db)
    .withConfig(Type.Object({}, { additionalProperties: true }))
    .build();
}

for (const store of testStores()) {
  describe(`crafted input answers 4xx, never 5xx, on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      app = await build(db, { allowedOrigins: ["https://app.example.org"] });
      for (let i = 0; i < 3; i++) {
        await app.handle(new Request("http://localhost/api/v1/config", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: `c${i}`, data: { n: i } }),
        }));
      }
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const get = (query: string): Promise<Response> => app.handle(new Request(`http://localhost/api/v1/config?${query}`));
    const post = (body: BodyInit, headers: Record<string, string> = {}): Promise<Response> =>
      app.handle(new Request("http://localhost/api/v1/config", { method: "POST", headers, body }));

    async function status(response: Response, expected: number, type?: string): Promise<void> {
      const text = await response.text();
      assert.equal(response.status, expected, text);
      if (type) assert.equal((JSON.parse(text) as Json).type, type);
    }

    test("size has a maximum of 10,000 and page numbers stay in the safe range", async () => {
      await status(await get("page=1&size=10000"), 200);
      await status(await get("page=1&size=10001"), 400, "urn:chapkit:error:invalid-query");
      await status(await get("page=99999999999999999999999&size=10"), 400, "urn:chapkit:error:invalid-query");
      await status(await get("page=9007199254740991&size=10000"), 400, "urn:chapkit:error:invalid-query");
      await status(await get("page=900719925474099&size=10"), 200);
    });

    test("over-long in lists, over-large expressions and sort lists are 400", async () => {
      await status(await get(`name[in]=${Array.from({ length: 1001 }, (_, i) => `n${i}`).join(",")}`), 400, "urn:chapkit:error:invalid-query");
      await status(await get(`filter=${encodeURIComponent(Array.from({ length: 600 }, () => 'name = "x"').join(" || "))}`), 400, "urn:chapkit:error:invalid-query");
      await status(await get(`filter=${"(".repeat(200)}name = "x"${")".repeat(200)}`), 400, "urn:chapkit:error:invalid-query");
      await status(await get(`sort=${Array.from({ length: 17 }, () => "name").join(",")}`), 400, "urn:chapkit:error:invalid-query");
    });

    test("JSON nested deeper than 64 levels is a 400 problem", async () => {
      const deep = (n: number): string => "[".repeat(n) + "]".repeat(n);
      await status(await post(`{"name":"deep","data":{"x":${deep(70)}}}`, { "content-type": "application/json" }), 400, "urn:chapkit:error:bad-request");
      await status(await post(`{"name":"deep","data":{"x":${deep(100_000)}}}`, { "content-type": "application/json" }), 400);
      await status(await post(`{"name":"shallow","data":{"x":${deep(10)}}}`, { "content-type": "application/json" }), 201);
    });

    test("a forged cursor is 400, even one whose old-style checksum is right", async () => {
      const page = (await (await get("limit=1&sort=name")).json()) as { next_cursor: string };
      const [payload] = page.next_cursor.split(".");
      const state = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as unknown[];
      state[1] = ["zzz"];
      const forged = Buffer.from(JSON.stringify(state), "utf8").toString("base64url");
      const checksum = createHash("sha256").update(forged).digest().subarray(0, 12).toString("base64url");
      await status(await get(`limit=1&sort=name&cursor=${forged}.${checksum}`), 400, "urn:chapkit:error:invalid-query");
      await status(await get(`limit=1&sort=name&cursor=${page.next_cursor}x`), 400, "urn:chapkit:error:invalid-query");
      await status(await get(`limit=1&sort=name&cursor=${page.next_cursor}`), 200);
    });

    test("another instance on the same store accepts this instance's cursors", async () => {
      const page = (await (await get("limit=1&sort=name")).json()) as { next_cursor: string };
      const other = await build(db);
      try {
        const response = await other.handle(new Request(`http://localhost/api/v1/config?limit=1&sort=name&cursor=${page.next_cursor}`));
        await status(response, 200);
      } finally {
        await other.chapkit.close();
      }
    });

    test("form types and text/plain on a JSON route are 415; no Content-Type stays JSON", async () => {
      await status(await post("name=x&data=1", { "content-type": "application/x-www-form-urlencoded" }), 415, "urn:chapkit:error:unsupported-media-type");
      await status(await post('{"name":"plain","data":{}}', { "content-type": "text/plain" }), 415);
      const form = new FormData();
      form.set("name", "x");
      await status(await app.handle(new Request("http://localhost/api/v1/config", { method: "POST", body: form })), 415);
      await status(await app.handle(new Request("http://localhost/api/v1/config", { method: "POST", body: new TextEncoder().encode('{"name":"untyped","data":{}}') })), 201);
    });

    test("a state-changing request from another site's page is 403", async () => {
      const body = (name: string): string => JSON.stringify({ name, data: {} });
      await status(await post(body("evil"), { "content-type": "application/json", origin: "https://evil.example" }), 403, "urn:chapkit:error:forbidden");
      await status(await post(body("sandboxed"), { "content-type": "application/json", origin: "null" }), 403);
      await status(await post(body("own"), { "content-type": "application/json", origin: "http://localhost" }), 201);
      await status(await post(body("allowed"), { "content-type": "application/json", origin: "https://app.example.org" }), 201);
      await status(await app.handle(new Request("http://localhost/api/v1/config", { headers: { origin: "https://evil.example" } })), 200);
      const names = ((await (await get("fields=name")).json()) as { name: string }[]).map((item) => item.name);
      assert.ok(!names.includes("evil") && !names.includes("sandboxed"));
    });
  });
}
