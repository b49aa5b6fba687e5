/**
 * Artifacts without HTTP (contract §8 with decisions): server-computed
 * levels, moves, cycle refusal, subtree delete, JSON round-trips, on every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ConflictError, NotFoundError, ValidationError } from "../../../src/core/errors.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { ArtifactOut } from "../../../src/modules/artifact/schema.ts";
import { testStores } from "../../_support/stores.ts";
import { failure, type Modules, openModules } from "./_fixture.ts";

const JSON_VALUES: [string, unknown][] = [
  ["an object, key order kept", { zeta: 1, alpha: { y: 2, x: [3, { b: 1, a: 2 }] }, mid: "m" }],
  ["an array", [1, "two", { three: 3 }, [4], null, true]],
  ["a string", "just text with ünïcödé and 日本語"],
  ["a number", 42.5],
  ["an integer", -7],
  ["zero", 0],
  ["a boolean", false],
  ["true", true],
  ["nested nulls", { a: null, b: [null, { c: null }] }],
  ["an empty object", {}],
  ["an empty array", []],
  ["an empty string", ""],
  ["an array starting with a boolean", [true, false, 1]],
  ["null-free unicode keys", { "ключ": "значение", "🔑": [1.5, -0.25] }],
];

for (const store of testStores()) {
  describe(`artifact manager on ${store.name}`, () => {
    let m: Modules;
    const rows = async (): Promise<ArtifactOut[]> => m.artifacts.list();
    before(async () => {
      m = await openModules(store);
    });
    beforeEach(async () => {
      await m.db.exec(`DELETE FROM "artifacts"`);
    });
    after(async () => {
      await m.db.close();
      await store.cleanup();
    });

    for (const [label, data] of JSON_VALUES) {
      it(`round-trips ${label}`, async () => {
        const created = await m.artifacts.create({ data });
        assert.deepEqual(created.data, data);
        const read = await m.artifacts.get(created.id);
        assert.deepEqual(read.data, data);
        assert.equal(JSON.stringify(read.data), JSON.stringify(data));
      });
    }

    it("answers the output keys in order", async () => {
      const out = await m.artifacts.create({ data: { k: 1 } });
      assert.deepEqual(Object.keys(out), ["id", "created_at", "updated_at", "data", "parent_id", "level"]);
      assert.equal(out.parent_id, null);
      assert.equal(out.level, 0);
    });

    it("computes levels from the parent and ignores a client level", async () => {
      const root = await m.artifacts.create({ data: "r", level: 7 });
      const child = await m.artifacts.create({ data: "c", parent_id: root.id, level: 9 });
      const grandchild = await m.artifacts.create({ data: "g", parent_id: child.id });
      assert.deepEqual([root.level, child.level, grandchild.level], [0, 1, 2]);
    });

    it("answers 404 naming an unknown parent and stores nothing", async () => {
      const missing = newUlid();
      const error = await failure(m.artifacts.create({ data: {}, parent_id: missing }));
      assert.ok(error instanceof NotFoundError);
      assert.match(error.message, new RegExp(missing));
      assert.deepEqual(await rows(), []);
    });

    it("refuses data null or missing with 422", async () => {
      for (const body of [{ data: null }, {}, { parent_id: null }]) {
        const error = await failure(m.artifacts.create(body));
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.errors[0]?.loc, ["body", "data"]);
      }
      assert.deepEqual(await rows(), []);
    });

    it("refuses malformed ids in the body with 422 ulid_format", async () => {
      const error = await failure(m.artifacts.create({ data: 1, parent_id: "not-a-ulid", id: "01k72p5n5kcrm6md3bre4p0999" }));
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.errors.map((e) => [e.loc.join("."), e.type]), [
        ["body.id", "ulid_format"],
        ["body.parent_id", "ulid_format"],
      ]);
    });

    it("keeps level and parent when only data changes", async () => {
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      const out = await m.artifacts.update(child.id, { data: { changed: true } });
      assert.equal(out.parent_id, root.id);
      assert.equal(out.level, 1);
      assert.deepEqual(out.data, { changed: true });
    });

    it("recomputes the levels of a whole subtree on a move", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const b = await m.artifacts.create({ data: "b", parent_id: a.id });
      const c = await m.artifacts.create({ data: "c", parent_id: b.id });
      const x = await m.artifacts.create({ data: "x" });
      const y = await m.artifacts.create({ data: "y", parent_id: x.id });
      await m.artifacts.update(b.id, { data: "b", parent_id: y.id });
      assert.deepEqual([(await m.artifacts.get(b.id)).level, (await m.artifacts.get(c.id)).level], [2, 3]);
      await m.artifacts.update(b.id, { data: "b", parent_id: null });
      assert.deepEqual([(await m.artifacts.get(b.id)).level, (await m.artifacts.get(c.id)).level], [0, 1]);
      assert.equal((await m.artifacts.get(b.id)).parent_id, null);
    });

    it("detaches with parent_id null and keeps the parent when parent_id is absent", async () => {
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      assert.equal((await m.artifacts.update(child.id, { data: 3 })).parent_id, root.id);
      const detached = await m.artifacts.update(child.id, { data: 3, parent_id: null });
      assert.equal(detached.parent_id, null);
      assert.equal(detached.level, 0);
    });

    it("refuses to move an artifact under itself or a descendant, changing nothing", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const b = await m.artifacts.create({ data: "b", parent_id: a.id });
      const c = await m.artifacts.create({ data: "c", parent_id: b.id });
      const before = await rows();
      for (const target of [a.id, b.id, c.id]) {
        const error = await failure(m.artifacts.update(a.id, { data: "moved", parent_id: target }));
        assert.ok(error instanceof ConflictError, String(error));
      }
      assert.deepEqual(await rows(), before);
    });

    it("refuses a move under an unknown parent with 404, changing nothing", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const before = await rows();
      const error = await failure(m.artifacts.update(a.id, { data: "new", parent_id: newUlid() }));
      assert.ok(error instanceof NotFoundError);
      assert.deepEqual(await rows(), before);
    });

    it("updates an existing id on save with update semantics", async () => {
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      const { output, created } = await m.artifacts.save({ id: child.id, data: 3, parent_id: null });
      assert.equal(created, false);
      assert.deepEqual([output.data, output.parent_id, output.level], [3, null, 0]);
      const id = newUlid();
      const fresh = await m.artifacts.save({ id, data: 4, parent_id: null });
      assert.equal(fresh.created, true);
      assert.equal(fresh.output.id, id);
    });

    it("deletes the whole subtree by default and leaves other trees alone", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const b = await m.artifacts.create({ data: "b", parent_id: a.id });
      await m.artifacts.create({ data: "c", parent_id: b.id });
      await m.artifacts.create({ data: "d", parent_id: a.id });
      const other = await m.artifacts.create({ data: "other" });
      await m.artifacts.delete(a.id);
      assert.deepEqual((await rows()).map((r) => r.id), [other.id]);
    });

    it("deletes a middle node's subtree only", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const b = await m.artifacts.create({ data: "b", parent_id: a.id });
      await m.artifacts.create({ data: "c", parent_id: b.id });
      const d = await m.artifacts.create({ data: "d", parent_id: a.id });
      await m.artifacts.delete(b.id);
      assert.deepEqual((await rows()).map((r) => r.id), [a.id, d.id]);
    });

    it("detaches the children with cascade false and recomputes their subtree levels", async () => {
      const a = await m.artifacts.create({ data: "a" });
      const b = await m.artifacts.create({ data: "b", parent_id: a.id });
      const c = await m.artifacts.create({ data: "c", parent_id: b.id });
      const d = await m.artifacts.create({ data: "d", parent_id: c.id });
      const e = await m.artifacts.create({ data: "e", parent_id: b.id });
      await m.artifacts.delete(b.id, { cascade: false });
      const byId = new Map((await rows()).map((r) => [r.id, r]));
      assert.equal(byId.has(b.id), false);
      assert.deepEqual([byId.get(c.id)?.parent_id, byId.get(c.id)?.level], [null, 0]);
      assert.deepEqual([byId.get(d.id)?.parent_id, byId.get(d.id)?.level], [c.id, 1]);
      assert.deepEqual([byId.get(e.id)?.parent_id, byId.get(e.id)?.level], [null, 0]);
      assert.deepEqual([byId.get(a.id)?.level], [0]);
    });

    it("answers 404 when deleting an unknown artifact", async () => {
      assert.ok(await failure(m.artifacts.delete(newUlid())) instanceof NotFoundError);
    });

    it("builds a tree with children in ascending id order and [] leaves", async () => {
      const root = await m.artifacts.create({ data: "root" });
      const kids = [];
      for (let i = 0; i < 4; i++) kids.push(await m.artifacts.create({ data: i, parent_id: root.id }));
      const grand = await m.artifacts.create({ data: "g", parent_id: kids[2]!.id });
      const deep = await m.artifacts.create({ data: "deep", parent_id: grand.id });
      const tree = await m.artifacts.tree(root.id);
      assert.deepEqual(Object.keys(tree), [
        "id", "created_at", "updated_at", "data", "parent_id", "level", "level_label", "hierarchy", "children", "config",
      ]);
      assert.deepEqual(tree.children?.map((c) => c.id), kids.map((k) => k.id));
      assert.equal(tree.level_label, "trained_model");
      assert.equal(tree.hierarchy, "ml_pipeline");
      assert.equal(tree.children?.[0]?.level_label, "predictions");
      assert.deepEqual(tree.children?.[0]?.children, []);
      const g = tree.children?.[2]?.children?.[0];
      assert.equal(g?.id, grand.id);
      assert.equal(g?.level_label, "level_2");
      assert.equal(g?.children?.[0]?.id, deep.id);
      assert.deepEqual(g?.children?.[0]?.children, []);
      const sub = await m.artifacts.tree(kids[2]!.id);
      assert.equal(sub.id, kids[2]!.id);
      assert.equal(sub.children?.length, 1);
    });

    it("expands a node with children null", async () => {
      const root = await m.artifacts.create({ data: "root" });
      const child = await m.artifacts.create({ data: "child", parent_id: root.id });
      const node = await m.artifacts.expand(child.id);
      assert.equal(node.children, null);
      assert.equal(node.level_label, "predictions");
      assert.equal(node.config, null);
      assert.equal(node.parent_id, root.id);
    });

    it("answers 404 for the tree or expansion of an unknown artifact", async () => {
      const id = newUlid();
      for (const call of [m.artifacts.tree(id), m.artifacts.expand(id)]) {
        const error = await failure(call);
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.message, `Artifact with id ${id} not found`);
      }
    });
  });
}
