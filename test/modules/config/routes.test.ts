/**
 * The config routes over HTTP (contract §6–§7 and §16 with decisions), on
 * every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { newUlid } from "../../../src/core/ulid.ts";
import { testStores } from "../../_support/stores.ts";
import { BASE, call, json, openService, problem, snapshot, type TestService } from "../artifact/_http.ts";

type ConfigBody = { id: string; created_at: string; updated_at: string; name: string; data: Record<string, unknown> };

for (const store of testStores()) {
  describe(`config routes on ${store.name}`, () => {
    let s: TestService;
    const create = async (name: string, data: unknown = {}): Promise<ConfigBody> =>
      json<ConfigBody>(await call(s.app, "POST", "/api/v1/config", { name, data }), 201);
    before(async () => {
      s = await openService(store);
    });
    beforeEach(async () => {
      await s.db.exec(`DELETE FROM "configs"`);
    });
    after(async () => {
      await s.close();
      await store.cleanup();
    });

    it("creates a config with 201, a Location and the output keys in order", async () => {
      const response = await call(s.app, "POST", "/api/v1/config", { name: "weather", data: { min_samples: "10" } });
      const body = await json<ConfigBody>(response, 201);
      assert.equal(response.headers.get("location"), `${BASE}/api/v1/config/${body.id}`);
      assert.deepEqual(Object.keys(body), ["id", "created_at", "updated_at", "name", "data"]);
      assert.deepEqual(body.data, { min_samples: 10, normalize_features: true });
    });

    it("serves the trailing-slash form directly", async () => {
      await json(await call(s.app, "POST", "/api/v1/config/", { name: "slash", data: {} }), 201);
      assert.equal((await json<unknown[]>(await call(s.app, "GET", "/api/v1/config/"), 200)).length, 1);
    });

    it("answers 422 for a body without name and data", async () => {
      const body = await problem(await call(s.app, "POST", "/api/v1/config", {}), 422, "validation-failed");
      const locs = (body.errors as { loc: string[] }[]).map((e) => e.loc.join("."));
      assert.ok(locs.includes("body.name") && locs.includes("body.data"));
    });

    it("answers 422 naming the data field that fails, storing nothing", async () => {
      const body = await problem(
        await call(s.app, "POST", "/api/v1/config", { name: "bad", data: { min_samples: "lots" } }),
        422,
        "validation-failed",
      );
      assert.deepEqual((body.errors as { loc: unknown[] }[])[0]?.loc, ["body", "data", "min_samples"]);
      assert.deepEqual(await snapshot(s.db, "configs"), []);
    });

    it("refuses a PUT with invalid data or a null name, leaving the row unchanged", async () => {
      const a = await create("keep", { min_samples: 4, extra: { k: null } });
      const before = await snapshot(s.db, "configs");
      await problem(await call(s.app, "PUT", `/api/v1/config/${a.id}`, { name: "keep", data: { min_samples: [1] } }), 422, "validation-failed");
      await problem(await call(s.app, "PUT", `/api/v1/config/${a.id}`, { name: null, data: {} }), 422, "validation-failed");
      await problem(await call(s.app, "PUT", `/api/v1/config/${a.id}`, { name: "keep", data: "text" }), 422, "validation-failed");
      assert.deepEqual(await snapshot(s.db, "configs"), before);
    });

    it("answers 409 for a duplicate name on create", async () => {
      await create("dup");
      const before = await snapshot(s.db, "configs");
      const body = await problem(await call(s.app, "POST", "/api/v1/config", { name: "dup", data: {} }), 409, "conflict");
      assert.equal(body.detail, "Config name 'dup' already exists");
      assert.deepEqual(await snapshot(s.db, "configs"), before);
    });

    it("answers 409 for a rename onto a taken name, by PUT or by upsert, changing nothing", async () => {
      await create("a");
      const b = await create("b", { min_samples: 2 });
      const before = await snapshot(s.db, "configs");
      await problem(await call(s.app, "PUT", `/api/v1/config/${b.id}`, { name: "a", data: {} }), 409, "conflict");
      await problem(await call(s.app, "POST", "/api/v1/config", { id: b.id, name: "a", data: {} }), 409, "conflict");
      assert.deepEqual(await snapshot(s.db, "configs"), before);
    });

    it("updates an existing id on POST with 200", async () => {
      const a = await create("u");
      const response = await call(s.app, "POST", "/api/v1/config", { id: a.id, name: "u2", data: { min_samples: 3 } });
      const body = await json<ConfigBody>(response, 200);
      assert.equal(body.id, a.id);
      assert.equal(body.name, "u2");
      assert.equal(response.headers.get("location"), null);
    });

    it("accepts a previous GET answer as a PUT body", async () => {
      const a = await create("echo", { extra: [1, 2] });
      const got = await json<ConfigBody>(await call(s.app, "GET", `/api/v1/config/${a.id}`), 200);
      const put = await json<ConfigBody>(await call(s.app, "PUT", `/api/v1/config/${a.id}`, { ...got, name: "echo2" }), 200);
      assert.equal(put.name, "echo2");
      assert.deepEqual(put.data, got.data);
    });

    it("answers 400 invalid-ulid and 404 not-found on the id routes", async () => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const bad = await problem(await call(s.app, method, "/api/v1/config/not-a-ulid", method === "PUT" ? { name: "x", data: {} } : undefined), 400, "invalid-ulid");
        assert.match(String(bad.detail), /Invalid ULID format/);
        const id = newUlid();
        const missing = await problem(await call(s.app, method, `/api/v1/config/${id}`, method === "PUT" ? { name: "x", data: {} } : undefined), 404, "not-found");
        assert.match(String(missing.detail), /not found/);
      }
    });

    it("deletes with 204 and then answers 404", async () => {
      const a = await create("gone");
      const response = await call(s.app, "DELETE", `/api/v1/config/${a.id}`);
      assert.equal(response.status, 204);
      assert.equal(await response.text(), "");
      await problem(await call(s.app, "GET", `/api/v1/config/${a.id}`), 404, "not-found");
    });

    it("pages with page and size", async () => {
      for (const name of ["p1", "p2", "p3"]) await create(name);
      const page = await json<{ items: unknown[]; total: number; page: number; size: number; pages: number }>(
        await call(s.app, "GET", "/api/v1/config?page=1&size=2"),
        200,
      );
      assert.deepEqual([page.items.length, page.total, page.page, page.size, page.pages], [2, 3, 1, 2, 2]);
    });

    it("serves $schema: ConfigOut with the config schema under $defs", async () => {
      const schema = await json<Record<string, any>>(await call(s.app, "GET", "/api/v1/config/$schema"), 200);
      assert.equal(schema.title, "ConfigOut");
      assert.deepEqual(Object.keys(schema.properties), ["id", "created_at", "updated_at", "name", "data"]);
      assert.deepEqual(schema.properties.data, { $ref: "#/$defs/WeatherConfig" });
      assert.equal(schema.$defs.WeatherConfig.additionalProperties, true);
      assert.equal(schema.$defs.WeatherConfig.properties.min_samples.default, 5);
      assert.equal(schema.$defs.WeatherConfig.properties.normalize_features.type, "boolean");
    });
  });
}
