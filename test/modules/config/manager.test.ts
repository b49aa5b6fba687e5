/**
 * Configs without HTTP (contract §7 with decisions): lax validation, null
 * dropping, declared-first output, unique names, on every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ConflictError, NotFoundError, ValidationError } from "../../../src/core/errors.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import { ConfigManager } from "../../../src/modules/config/manager.ts";
import { testStores } from "../../_support/stores.ts";
import { failure, type Modules, openModules } from "../artifact/_fixture.ts";

for (const store of testStores()) {
  describe(`config manager on ${store.name}`, () => {
    let m: Modules;
    before(async () => {
      m = await openModules(store);
    });
    beforeEach(async () => {
      await m.db.exec(`DELETE FROM "configs"`);
    });
    after(async () => {
      await m.db.close();
      await store.cleanup();
    });

    it("fills defaults and answers the output keys in order", async () => {
      const out = await m.configs.create({ name: "baseline", data: {} });
      assert.deepEqual(Object.keys(out), ["id", "created_at", "updated_at", "name", "data"]);
      assert.deepEqual(out.data, { min_samples: 5, normalize_features: true });
      assert.match(out.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it("coerces declared fields like a lax validator", async () => {
      const out = await m.configs.create({ name: "lax", data: { min_samples: "7", normalize_features: "false", threshold: 2 } });
      assert.deepEqual(out.data, { min_samples: 7, normalize_features: false, threshold: 2 });
    });

    it("keeps undeclared keys after the declared fields, in their given order", async () => {
      const out = await m.configs.create({ name: "extras", data: { zeta: 1, alpha: [1, "two"], min_samples: 9 } });
      assert.deepEqual(Object.keys(out.data), ["min_samples", "normalize_features", "zeta", "alpha"]);
      assert.deepEqual(out.data, { min_samples: 9, normalize_features: true, zeta: 1, alpha: [1, "two"] });
    });

    it("drops top-level nulls and declared nulls but keeps nulls inside an extra value", async () => {
      const out = await m.configs.create({
        name: "nulls",
        data: { a: null, b: 1, threshold: null, min_samples: null, y: { k: null }, window: { size: null, label: null } },
      });
      assert.deepEqual(out.data, { min_samples: 5, normalize_features: true, window: { size: 3 }, b: 1, y: { k: null } });
      const [row] = await m.db.query<{ data: unknown }>(`SELECT "data" FROM "configs" WHERE "id" = ?`, [out.id]);
      const stored = typeof row!.data === "string" ? JSON.parse(row!.data) : row!.data;
      assert.equal("a" in stored, false);
      assert.equal("threshold" in stored, false);
    });

    it("rejects data that does not validate with 422 naming the field, storing nothing", async () => {
      const error = await failure(m.configs.create({ name: "bad", data: { min_samples: "many" } }));
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.errors[0]?.loc, ["body", "data", "min_samples"]);
      assert.equal(await m.configs.repository.count(), 0);
    });

    it("rejects a body without name or data", async () => {
      const error = await failure(m.configs.create({}));
      assert.ok(error instanceof ValidationError);
      const locs = error.errors.map((e) => e.loc.join("."));
      assert.ok(locs.includes("body.name") && locs.includes("body.data"), locs.join(","));
    });

    it("accepts an empty name", async () => {
      const out = await m.configs.create({ name: "", data: {} });
      assert.equal(out.name, "");
    });

    it("rejects a config whose name is taken with 409", async () => {
      await m.configs.create({ name: "taken", data: {} });
      const error = await failure(m.configs.create({ name: "taken", data: { min_samples: 1 } }));
      assert.ok(error instanceof ConflictError);
      assert.equal(error.message, "Config name 'taken' already exists");
      assert.equal(await m.configs.repository.count(), 1);
    });

    it("rejects a create with its own id whose name is taken with 409, storing nothing", async () => {
      await m.configs.create({ name: "taken", data: {} });
      const id = newUlid();
      const error = await failure(m.configs.save({ id, name: "taken", data: {} }));
      assert.ok(error instanceof ConflictError);
      assert.equal(error.message, "Config name 'taken' already exists");
      assert.equal(await m.configs.repository.exists(id), false);
    });

    it("rejects renaming onto a taken name and leaves both rows unchanged", async () => {
      const a = await m.configs.create({ name: "a", data: { min_samples: 1 } });
      const b = await m.configs.create({ name: "b", data: { min_samples: 2 } });
      const error = await failure(m.configs.update(b.id, { name: "a", data: { min_samples: 3 } }));
      assert.ok(error instanceof ConflictError);
      assert.deepEqual(await m.configs.get(a.id), a);
      assert.deepEqual(await m.configs.get(b.id), b);
    });

    it("rejects an upsert that renames onto a taken name", async () => {
      await m.configs.create({ name: "a", data: {} });
      const b = await m.configs.create({ name: "b", data: {} });
      const error = await failure(m.configs.save({ id: b.id, name: "a", data: {} }));
      assert.ok(error instanceof ConflictError);
      assert.equal((await m.configs.get(b.id)).name, "b");
    });

    it("refuses one of two concurrent creates of the same name with 409, storing one", async () => {
      const results = await Promise.allSettled([
        m.configs.create({ name: "race", data: {} }),
        m.configs.create({ name: "race", data: { min_samples: 2 } }),
      ]);
      const refused = results.filter((result) => result.status === "rejected");
      assert.equal(refused.length, 1);
      const reason = (refused[0] as PromiseRejectedResult).reason;
      assert.ok(reason instanceof ConflictError);
      assert.equal(reason.message, "Config name 'race' already exists");
      assert.equal(await m.configs.repository.count(), 1);
    });

    it("stores one config of a name among eight concurrent creates, refusing the others with 409", async () => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => m.configs.create({ name: "crowd", data: { min_samples: i } })));
      assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
      for (const result of results) {
        if (result.status === "rejected") assert.ok(result.reason instanceof ConflictError, String(result.reason));
      }
      assert.equal(await m.configs.repository.count(), 1);
    });

    it("runs a user beforeCreate hook after the name check: a taken name never reaches it", async () => {
      const seen: string[] = [];
      const hooked = new ConfigManager({
        store: m.configs.store,
        schema: m.configs.dataSchema,
        hooks: { beforeCreate: (input) => void seen.push(input.name) },
      });
      await hooked.create({ name: "hooked", data: {} });
      assert.ok((await failure(hooked.create({ name: "hooked", data: {} }))) instanceof ConflictError);
      assert.deepEqual(seen, ["hooked"]);
      assert.equal(await m.configs.repository.count(), 1);
    });

    it("leaves name uniqueness to the manager: the table itself accepts a duplicate name", async () => {
      await m.configs.create({ name: "twice", data: {} });
      await m.configs.store.insert({ name: "twice", data: {} });
      assert.equal((await m.configs.store.findMany({ filter: { kind: "compare", field: "name", op: "eq", value: "twice" } })).length, 2);
    });

    it("keeps its own name on update", async () => {
      const a = await m.configs.create({ name: "same", data: {} });
      const out = await m.configs.update(a.id, { name: "same", data: { min_samples: 8 } });
      assert.equal(out.data.min_samples, 8);
    });

    it("replaces data wholesale on update", async () => {
      const a = await m.configs.create({ name: "w", data: { extra: 1, min_samples: 2 } });
      const out = await m.configs.update(a.id, { name: "w", data: { other: true } });
      assert.deepEqual(out.data, { min_samples: 5, normalize_features: true, other: true });
    });

    it("accepts a previous output, timestamps included, as an update body", async () => {
      const a = await m.configs.create({ name: "echo", data: { k: "v" } });
      const out = await m.configs.update(a.id, { ...a, name: "echo2" });
      assert.equal(out.name, "echo2");
      assert.deepEqual(out.data, a.data);
    });

    it("updates an existing id on save and says so", async () => {
      const a = await m.configs.create({ name: "u", data: {} });
      const { output, created } = await m.configs.save({ id: a.id, name: "u2", data: { min_samples: 4 } });
      assert.equal(created, false);
      assert.equal(output.id, a.id);
      assert.equal(output.name, "u2");
      const fresh = newUlid();
      const inserted = await m.configs.save({ id: fresh, name: "u3", data: {} });
      assert.equal(inserted.created, true);
      assert.equal(inserted.output.id, fresh);
    });

    it("re-validates stored data on read, filling defaults declared since", async () => {
      const row = await m.configs.store.insert({ name: "old", data: { legacy: 1 } });
      const out = await m.configs.get(row.id);
      assert.deepEqual(out.data, { min_samples: 5, normalize_features: true, legacy: 1 });
    });

    it("refuses to read stored data that no longer validates", async () => {
      const row = await m.configs.store.insert({ name: "broken", data: { min_samples: "x" } });
      const error = await failure(m.configs.get(row.id));
      assert.ok(error instanceof ValidationError);
    });

    it("answers 404 for an unknown id", async () => {
      const id = newUlid();
      const error = await failure(m.configs.get(id));
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.message, `Entity with id ${id} not found`);
    });

    it("finds a config by name", async () => {
      const a = await m.configs.create({ name: "by-name", data: {} });
      assert.deepEqual(await m.configs.findByName("by-name"), a);
      assert.equal(await m.configs.findByName("nope"), null);
    });

    it("lists and pages configs", async () => {
      for (const name of ["p1", "p2", "p3"]) await m.configs.create({ name, data: {} });
      const page = await m.configs.page(1, 2);
      assert.equal(page.items.length, 2);
      assert.equal(page.total, 3);
      assert.equal(page.pages, 2);
      assert.deepEqual((await m.configs.list()).map((c) => c.name), ["p1", "p2", "p3"]);
    });
  });
}
