/**
 * `POST /api/v1/$batch`: answers in order; atomic batches commit all or
 * nothing (no event of a rolled-back write is published); every sub-request
 * passes auth and rate limits by itself; bad batches are problems.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../src/core/events/types.ts";
import type { SettingsInput } from "../../src/core/settings/schema.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../_support/stores.ts";

const Schema = Type.Object({ k: Type.Integer({ default: 3 }) });

function service(url: string, settings: SettingsInput = {}, auth = false): Promise<ServiceApp> {
  const builder = new ServiceBuilder({ info: { display_name: "Batch" }, settings })
    .withSettings({ env: {} })
    .withDatabase(url)
    .withConfig(Schema)
    .withBatch({ maxRequests: 5 });
  return (auth ? builder.withAuth() : builder).build();
}

async function batch(app: ServiceApp, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return await app.handle(new Request("http://local/api/v1/$batch", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  }));
}

type Answer = { responses: { status: number; headers: Record<string, string>; body: unknown }[] };

for (const make of [sqliteFileStore, postgresStore]) {
  const store: TestStore = make();
  describe(`$batch on ${store.name}`, () => {
    after(() => store.cleanup());

    test("answers every sub-request in order with its status, headers and body", async () => {
      await (await store.open()).close();
      const app = await service(store.url());
      try {
        const response = await batch(app, {
          requests: [
            { method: "POST", path: "/api/v1/config", body: { name: "a", data: {} } },
            { method: "GET", path: "/api/v1/config?page=1&size=10" },
            { method: "GET", path: "/api/v1/config/01K79YAHJ7BR4E87VVTG8FNBMA" },
          ],
        });
        assert.equal(response.status, 200);
        const { responses } = await response.json() as Answer;
        assert.deepEqual(responses.map((r) => r.status), [201, 200, 404]);
        assert.equal((responses[0]!.body as { name: string }).name, "a");
        assert.equal((responses[1]!.body as { total: number }).total, 1);
        assert.match(responses[2]!.headers["content-type"]!, /problem\+json/);
      } finally {
        await app.chapkit.close();
      }
    });

    test("an atomic batch with a failing request changes nothing and publishes nothing", async () => {
      await (await store.open()).close();
      const app = await service(store.url());
      try {
        const seen: ServiceEvent[] = [];
        app.chapkit.context.events.subscribe({}, (event) => seen.push(event));
        const response = await batch(app, {
          atomic: true,
          requests: [
            { method: "POST", path: "/api/v1/config", body: { name: "x", data: {} } },
            { method: "POST", path: "/api/v1/config", body: { name: "x", data: {} } },
            { method: "POST", path: "/api/v1/config", body: { name: "y", data: {} } },
          ],
        });
        const { responses } = await response.json() as Answer;
        assert.deepEqual(responses.map((r) => r.status), [424, 409, 424]);
        const list = await (await app.handle(new Request("http://local/api/v1/config"))).json() as unknown[];
        assert.deepEqual(list, []);
        assert.deepEqual(seen, []);
        const ok = await batch(app, {
          atomic: true,
          requests: [
            { method: "POST", path: "/api/v1/config", body: { name: "x", data: {} } },
            { method: "POST", path: "/api/v1/config", body: { name: "y", data: {} } },
          ],
        });
        assert.deepEqual((await ok.json() as Answer).responses.map((r) => r.status), [201, 201]);
        assert.equal((await (await app.handle(new Request("http://local/api/v1/config"))).json() as unknown[]).length, 2);
        assert.equal(seen.length, 2);
      } finally {
        await app.chapkit.close();
      }
    });
  });
}

describe("$batch checks", () => {
  const store = sqliteFileStore();
  after(() => store.cleanup());

  test("each sub-request passes the rate limit by itself", async () => {
    await (await store.open()).close();
    const app = await service(store.url(), {
      rateLimit: { enabled: true, policies: [{ name: "reads", limit: 2, windowSeconds: 60, by: ["address"], routes: ["GET /api/v1/config"] }] },
    });
    try {
      const response = await batch(app, { requests: [1, 2, 3].map(() => ({ method: "GET", path: "/api/v1/config" })) });
      assert.deepEqual((await response.json() as Answer).responses.map((r) => r.status), [200, 200, 429]);
    } finally {
      await app.chapkit.close();
    }
  });

  test("each sub-request passes auth with the batch's credentials or its own", async () => {
    await (await store.open()).close();
    const app = await service(store.url(), { auth: { apiKeys: ["batch-key-0123456789"] } }, true);
    try {
      const allowed = await batch(app, { requests: [{ method: "GET", path: "/api/v1/config" }] }, { "x-api-key": "batch-key-0123456789" });
      assert.deepEqual((await allowed.json() as Answer).responses.map((r) => r.status), [200]);
      const mixed = await batch(app, {
        requests: [
          { method: "GET", path: "/api/v1/config" },
          { method: "GET", path: "/api/v1/config", headers: { "x-api-key": "wrong" } },
        ],
      }, { "x-api-key": "batch-key-0123456789" });
      assert.deepEqual((await mixed.json() as Answer).responses.map((r) => r.status), [200, 401]);
      const anonymous = await batch(app, { requests: [{ method: "GET", path: "/api/v1/config" }] });
      assert.equal(anonymous.status, 401);
    } finally {
      await app.chapkit.close();
    }
  });

  test("a malformed, oversized or nested batch answers 422 and runs nothing", async () => {
    await (await store.open()).close();
    const app = await service(store.url());
    try {
      const sub = { method: "POST", path: "/api/v1/config", body: { name: "n", data: {} } };
      assert.equal((await batch(app, { requests: "no" })).status, 422);
      assert.equal((await batch(app, { requests: [{ method: "TRACE", path: "/" }] })).status, 422);
      assert.equal((await batch(app, { requests: Array.from({ length: 6 }, () => sub) })).status, 422);
      assert.equal((await batch(app, { requests: [sub, { method: "POST", path: "/api/v1/$batch", body: { requests: [] } }] })).status, 422);
      assert.deepEqual(await (await app.handle(new Request("http://local/api/v1/config"))).json(), []);
    } finally {
      await app.chapkit.close();
    }
  });
});
