import assert from "node:assert/strict";
import { Elysia } from "elysia";
import { after, before, describe, it } from "node:test";
import { parseFilter } from "../../../src/core/query/filter-parse.ts";
import { InvalidQueryError } from "../../../src/core/errors.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { FLAG_VARIABLES, type FlagManager, FLAGS_KEY, rolloutBucket } from "../../../src/modules/flags/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { ADMIN_KEY, JWT_SECRET, TEST_COST } from "../auth/_service.ts";

type Json = Record<string, unknown>;

/** A route code wrote: answers whether `beta` is on for the caller (principal and headers from the request). */
const betaRoute = new Elysia().get("/beta", async ({ request }) => {
  const flags = (globalThis as { testFlags?: FlagManager }).testFlags!;
  return { on: await flags.enabled("beta", { key: "k", request }) };
});

async function flagService(db: Driver, cacheTtlMs = 60_000): Promise<ServiceApp> {
  return await new ServiceBuilder({ info: { display_name: "Flags test" } })
    .withDatabase(db)
    .use(betaRoute)
    .withAuth({ jwtSecret: JWT_SECRET, staticKeys: [ADMIN_KEY], passwordCost: TEST_COST, env: {} })
    .withFlags({ cacheTtlMs })
    .build();
}

function call(app: ServiceApp, method: string, path: string, init: { key?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.key !== undefined) headers["x-api-key"] = init.key;
  let body: string | undefined;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  }
  return app.handle(new Request(`http://chapkit.test${path}`, { method, headers, body }));
}

async function json(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as Json;
}

describe("filter variables", () => {
  it("parses listed variables, with hyphens in the last segments", () => {
    const filter = parseFilter('$user.role = "admin" || $request.header.x-beta = "1"', { variables: FLAG_VARIABLES });
    assert.deepEqual(filter, {
      kind: "or",
      items: [
        { kind: "compare", field: "$user.role", op: "eq", value: "admin" },
        { kind: "compare", field: "$request.header.x-beta", op: "eq", value: "1" },
      ],
    });
  });

  it("refuses unknown variables and variables where none are allowed", () => {
    assert.throws(() => parseFilter('$user.email = "a"', { variables: FLAG_VARIABLES }), (error: unknown) =>
      error instanceof InvalidQueryError && /unknown variable \$user\.email/.test(error.message));
    assert.throws(() => parseFilter('$user.role = "a"'), InvalidQueryError);
    assert.throws(() => parseFilter("$ = 1", { variables: FLAG_VARIABLES }), InvalidQueryError);
  });
});

describe("rollout buckets", () => {
  it("are stable per flag and key and spread about evenly", () => {
    assert.equal(rolloutBucket("new-ui", "user-1"), rolloutBucket("new-ui", "user-1"));
    let inside = 0;
    for (let i = 0; i < 10_000; i++) if (rolloutBucket("new-ui", `key-${i}`) < 2500) inside += 1;
    assert.ok(inside > 2300 && inside < 2700, `${inside} of 10000 keys in a 25 % rollout`);
  });
});

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`feature flags on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    let flags: FlagManager;
    let editorKey: string;

    before(async () => {
      db = await store.open();
      app = await flagService(db);
      flags = app.chapkit.context.get<FlagManager>(FLAGS_KEY);
      const issued = await json(await call(app, "POST", "/api/v1/auth/keys", { key: ADMIN_KEY, body: { name: "ed", role: "editor" } }), 201);
      editorKey = String(issued.key);
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    it("lets admins create, read, update and delete flags, and nobody else", async () => {
      const created = await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "crud", percentage: 50 } }), 201);
      assert.equal(created.enabled, true);
      assert.equal(created.rule, null);
      const id = String(created.id);
      assert.equal((await call(app, "GET", "/api/v1/flags", { key: editorKey })).status, 403);
      assert.equal((await call(app, "POST", "/api/v1/flags", { key: editorKey, body: { name: "x" } })).status, 403);
      assert.equal((await call(app, "GET", "/api/v1/flags")).status, 401);
      const updated = await json(await call(app, "PUT", `/api/v1/flags/${id}`, { key: ADMIN_KEY, body: { name: "crud", enabled: false } }), 200);
      assert.equal(updated.enabled, false);
      assert.equal(updated.percentage, 50);
      assert.equal((await json(await call(app, "GET", `/api/v1/flags/${id}`, { key: ADMIN_KEY }), 200)).enabled, false);
      assert.equal((await call(app, "DELETE", `/api/v1/flags/${id}`, { key: ADMIN_KEY })).status, 204);
      assert.equal((await call(app, "GET", `/api/v1/flags/${id}`, { key: ADMIN_KEY })).status, 404);
    });

    it("answers bad input with problems and keeps what is stored", async () => {
      await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "kept", rule: '$user.role = "admin"' } }), 201);
      const unknown = await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "bad", rule: '$user.email = "x"' } }), 400);
      assert.match(String(unknown.type), /invalid-query/);
      assert.match(String(unknown.detail), /unknown variable \$user\.email/);
      assert.equal(unknown.parameter, "rule");
      const syntax = await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "bad", rule: "$user.role = " } }), 400);
      assert.match(String(syntax.type), /invalid-query/);
      await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "bad", percentage: 101 } }), 422);
      await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "has space" } }), 422);
      await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: "{" }), 422);
      await json(await call(app, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "kept" } }), 409);
      const list = await json(await call(app, "GET", "/api/v1/flags?filter=name%20%3D%20%22kept%22&page=1&size=10", { key: ADMIN_KEY }), 200);
      const items = list.items as Json[];
      assert.equal(items.length, 1);
      assert.equal(items[0]!.rule, '$user.role = "admin"');
      assert.equal((await flags.repository.findMany()).some((flag) => flag.name === "bad"), false);
    });

    it("evaluates on/off, sticky percentages and rules with variables", async () => {
      await flags.create({ name: "off", enabled: false });
      await flags.create({ name: "quarter", percentage: 25 });
      await flags.create({ name: "beta", rule: '$user.role = "admin" || $request.header.x-beta = "1"' });
      assert.equal(await flags.enabled("off", { key: "a" }), false);
      assert.equal(await flags.enabled("missing", { key: "a" }), false);
      let on = 0;
      for (let i = 0; i < 10_000; i++) {
        const answer = await flags.enabled("quarter", { key: `user-${i}` });
        if (answer) on += 1;
        if (i < 100) assert.equal(await flags.enabled("quarter", { key: `user-${i}` }), answer);
      }
      assert.ok(on > 2300 && on < 2700, `${on} of 10000 keys on at 25 %`);
      assert.equal(await flags.enabled("beta", { key: "k", user: { id: "u1", role: "admin" } }), true);
      assert.equal(await flags.enabled("beta", { key: "k", user: { id: "u1", role: "viewer" } }), false);
      const beta = new Request("http://chapkit.test/x", { headers: { "x-beta": "1" } });
      assert.equal(await flags.enabled("beta", { key: "k", request: beta }), true);
      assert.equal(await flags.enabled("beta", { key: "k", request: new Request("http://chapkit.test/x") }), false);
      (globalThis as { testFlags?: FlagManager }).testFlags = flags;
      assert.deepEqual(await json(await call(app, "GET", "/beta", { key: ADMIN_KEY }), 200), { on: true }, "the admin principal of the request");
      assert.deepEqual(await json(await call(app, "GET", "/beta", { key: editorKey }), 200), { on: false });
    });

    it("sees its own writes at once and another instance's after reload", async () => {
      await flags.create({ name: "shared", enabled: false });
      assert.equal(await flags.enabled("shared", { key: "k" }), false);
      const other = await flagService(db, 60_000);
      try {
        const otherFlags = other.chapkit.context.get<FlagManager>(FLAGS_KEY);
        const [record] = await flags.repository.findMany().then((all) => all.filter((flag) => flag.name === "shared"));
        await otherFlags.update(String(record!.id), { name: "shared", enabled: true });
        assert.equal(await otherFlags.enabled("shared", { key: "k" }), true);
        assert.equal(await flags.enabled("shared", { key: "k" }), false, "cached for 60 s");
        await app.chapkit.reload();
        assert.equal(await flags.enabled("shared", { key: "k" }), true);
      } finally {
        await other.chapkit.close();
      }
    });
  });
}

describe("feature flags across two PostgreSQL instances with a short cache", () => {
  const store = postgresStore();
  let first: ServiceApp;
  let second: ServiceApp;
  let dbs: Driver[] = [];

  before(async () => {
    const db = await store.open();
    const url = store.url();
    const { openDatabase } = await import("../../../src/db/open.ts");
    const schema = new URL(url).searchParams.get("search_path")!;
    const twin = await openDatabase(url.split("?")[0]!, { postgres: { schema, max: 2 } });
    dbs = [db, twin];
    first = await flagService(db, 50);
    second = await flagService(twin, 50);
  });
  after(async () => {
    await first.chapkit.close();
    await second.chapkit.close();
    for (const db of dbs) await db.close();
    await store.cleanup();
  });

  it("shows a change made through one instance's HTTP API to the other within the TTL", async () => {
    const a = first.chapkit.context.get<FlagManager>(FLAGS_KEY);
    const b = second.chapkit.context.get<FlagManager>(FLAGS_KEY);
    const created = await json(await call(first, "POST", "/api/v1/flags", { key: ADMIN_KEY, body: { name: "live", enabled: false } }), 201);
    assert.equal(await b.enabled("live", { key: "k" }), false);
    await json(await call(first, "PUT", `/api/v1/flags/${created.id}`, { key: ADMIN_KEY, body: { name: "live", enabled: true } }), 200);
    assert.equal(await a.enabled("live", { key: "k" }), true);
    const deadline = Date.now() + 5000;
    while (!(await b.enabled("live", { key: "k" }))) {
      assert.ok(Date.now() < deadline, "the second instance never saw the change");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
