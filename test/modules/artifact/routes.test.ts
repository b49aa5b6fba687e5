/**
 * The artifact routes over HTTP (contract §8 and §16 with decisions), on
 * every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { newUlid } from "../../../src/core/ulid.ts";
import { testStores } from "../../_support/stores.ts";
import { BASE, call, json, openService, problem, snapshot, type TestService } from "./_http.ts";

type Artifact = { id: string; created_at: string; updated_at: string; data: unknown; parent_id: string | null; level: number };
type Node = Artifact & { level_label: string; hierarchy: string; children: Node[] | null; config: unknown };

const OCTETS = { "content-type": "application/octet-stream" };

const JSON_DATA: [string, unknown][] = [
  ["an object", { zeta: 1, alpha: { b: [1, { y: 1, x: 2 }], a: null }, "ключ": "значение" }],
  ["an array", [3, "x", { b: 1, a: 2 }, [true, null]]],
  ["a string", "text"],
  ["a number", 12.5],
  ["a boolean", true],
  ["nested nulls", { a: null, list: [null] }],
];

for (const store of testStores()) {
  describe(`artifact routes on ${store.name}`, () => {
    let s: TestService;
    const create = async (body: Record<string, unknown>): Promise<Artifact> =>
      json<Artifact>(await call(s.app, "POST", "/api/v1/artifacts", body), 201);
    const get = async (id: string): Promise<Artifact> => json<Artifact>(await call(s.app, "GET", `/api/v1/artifacts/${id}`), 200);
    before(async () => {
      s = await openService(store);
    });
    beforeEach(async () => {
      await s.db.exec(`DELETE FROM "artifacts"`);
    });
    after(async () => {
      await s.close();
      await store.cleanup();
    });

    for (const [label, data] of JSON_DATA) {
      it(`round-trips ${label} byte for byte`, async () => {
        const created = await create({ data });
        const response = await call(s.app, "GET", `/api/v1/artifacts/${created.id}`);
        const text = await response.text();
        assert.ok(text.includes(`"data":${JSON.stringify(data)},`), text);
      });
    }

    it("serves $schema of ArtifactOut", async () => {
      const schema = await json<Record<string, any>>(await call(s.app, "GET", "/api/v1/artifacts/$schema"), 200);
      assert.equal(schema.title, "ArtifactOut");
      assert.deepEqual(Object.keys(schema.properties), ["id", "created_at", "updated_at", "data", "parent_id", "level"]);
    });

    it("creates with 201 and a Location, computing the level", async () => {
      const root = await create({ data: { k: 1 }, level: 5 });
      const response = await call(s.app, "POST", "/api/v1/artifacts", { data: 2, parent_id: root.id, level: 0 });
      const child = await json<Artifact>(response, 201);
      assert.equal(response.headers.get("location"), `${BASE}/api/v1/artifacts/${child.id}`);
      assert.deepEqual(Object.keys(child), ["id", "created_at", "updated_at", "data", "parent_id", "level"]);
      assert.deepEqual([root.level, child.level, child.parent_id], [0, 1, root.id]);
    });

    it("answers 404 naming an unknown parent, storing nothing", async () => {
      const parent = newUlid();
      const body = await problem(await call(s.app, "POST", "/api/v1/artifacts", { data: 1, parent_id: parent }), 404, "not-found");
      assert.match(String(body.detail), new RegExp(parent));
      assert.deepEqual(await snapshot(s.db, "artifacts"), []);
    });

    it("answers 422 for data null or missing", async () => {
      for (const body of [{ data: null }, {}]) {
        const answer = await problem(await call(s.app, "POST", "/api/v1/artifacts", body), 422, "validation-failed");
        assert.deepEqual((answer.errors as { loc: unknown[] }[])[0]?.loc, ["body", "data"]);
      }
      assert.deepEqual(await snapshot(s.db, "artifacts"), []);
    });

    it("refuses a PUT with data null, leaving the row unchanged", async () => {
      const a = await create({ data: { keep: true } });
      const before = await snapshot(s.db, "artifacts");
      await problem(await call(s.app, "PUT", `/api/v1/artifacts/${a.id}`, { data: null }), 422, "validation-failed");
      assert.deepEqual(await snapshot(s.db, "artifacts"), before);
    });

    it("moves a subtree by PUT and recomputes levels; parent_id null detaches", async () => {
      const a = await create({ data: "a" });
      const b = await create({ data: "b", parent_id: a.id });
      const c = await create({ data: "c", parent_id: b.id });
      const x = await create({ data: "x" });
      const moved = await json<Artifact>(await call(s.app, "PUT", `/api/v1/artifacts/${b.id}`, { data: "b", parent_id: x.id }), 200);
      assert.deepEqual([moved.parent_id, moved.level], [x.id, 1]);
      const detached = await json<Artifact>(await call(s.app, "PUT", `/api/v1/artifacts/${b.id}`, { data: "b", parent_id: null }), 200);
      assert.deepEqual([detached.parent_id, detached.level], [null, 0]);
      assert.equal((await get(c.id)).level, 1);
    });

    it("answers 409 for a move under the artifact itself or a descendant, changing nothing", async () => {
      const a = await create({ data: "a" });
      const b = await create({ data: "b", parent_id: a.id });
      const before = await snapshot(s.db, "artifacts");
      for (const target of [a.id, b.id]) {
        await problem(await call(s.app, "PUT", `/api/v1/artifacts/${a.id}`, { data: "z", parent_id: target }), 409, "conflict");
      }
      assert.deepEqual(await snapshot(s.db, "artifacts"), before);
    });

    it("deletes the subtree by default", async () => {
      const a = await create({ data: "a" });
      const b = await create({ data: "b", parent_id: a.id });
      const keep = await create({ data: "keep" });
      assert.equal((await call(s.app, "DELETE", `/api/v1/artifacts/${a.id}`)).status, 204);
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${b.id}`), 404, "not-found");
      assert.deepEqual((await json<Artifact[]>(await call(s.app, "GET", "/api/v1/artifacts"), 200)).map((r) => r.id), [keep.id]);
    });

    it("detaches the children with ?cascade=false", async () => {
      const a = await create({ data: "a" });
      const b = await create({ data: "b", parent_id: a.id });
      const c = await create({ data: "c", parent_id: b.id });
      assert.equal((await call(s.app, "DELETE", `/api/v1/artifacts/${a.id}?cascade=false`)).status, 204);
      const [nb, nc] = [await get(b.id), await get(c.id)];
      assert.deepEqual([nb.parent_id, nb.level, nc.parent_id, nc.level], [null, 0, b.id, 1]);
    });

    it("answers 422 for a cascade value that is not a boolean, deleting nothing", async () => {
      const a = await create({ data: "a" });
      await problem(await call(s.app, "DELETE", `/api/v1/artifacts/${a.id}?cascade=maybe`), 422, "validation-failed");
      assert.equal((await get(a.id)).id, a.id);
    });

    it("serves $tree with nested children and [] leaves, $expand with children null", async () => {
      const root = await create({ data: "root" });
      const k1 = await create({ data: 1, parent_id: root.id });
      const k2 = await create({ data: 2, parent_id: root.id });
      const tree = await json<Node>(await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$tree`), 200);
      assert.deepEqual(tree.children?.map((n) => n.id), [k1.id, k2.id]);
      assert.deepEqual(tree.children?.[0]?.children, []);
      assert.deepEqual([tree.level_label, tree.hierarchy, tree.config], ["trained_model", "ml_pipeline", null]);
      const node = await json<Node>(await call(s.app, "GET", `/api/v1/artifacts/${k1.id}/$expand`), 200);
      assert.deepEqual([node.children, node.level_label, node.config], [null, "predictions", null]);
    });

    it("answers 404 problems for $tree and $expand of an unknown id, 400 for a malformed one", async () => {
      for (const op of ["$tree", "$expand"]) {
        const id = newUlid();
        const missing = await problem(await call(s.app, "GET", `/api/v1/artifacts/${id}/${op}`), 404, "not-found");
        assert.match(String(missing.detail), /not found/);
        assert.equal(missing.instance, `/api/v1/artifacts/${id}`);
        const bad = await problem(await call(s.app, "GET", `/api/v1/artifacts/bad/${op}`), 400, "invalid-ulid");
        assert.equal(bad.instance, "/api/v1/artifacts/bad");
      }
    });

    it("uploads raw bytes with 201 and a Location, and downloads them back", async () => {
      const parent = await create({ data: "parent" });
      const bytes = new Uint8Array([0, 1, 2, 250, 251, 255]);
      const response = await call(s.app, "POST", `/api/v1/artifacts/$upload?parent_id=${parent.id}`, bytes, {
        "content-type": "application/x-custom",
      });
      const created = await json<Artifact>(response, 201);
      assert.equal(response.headers.get("location"), `${BASE}/api/v1/artifacts/${created.id}`);
      assert.deepEqual([created.parent_id, created.level], [parent.id, 1]);
      assert.deepEqual(created.data, {
        content_type: "application/x-custom",
        size: 6,
        content: {
          _type: "bytes",
          _module: "chapkit",
          _repr: "<6 bytes, application/x-custom>",
          _serialization_error: "Binary content: download it from $download.",
          _size: 6,
          _content_type: "application/x-custom",
        },
      });
      const download = await call(s.app, "GET", `/api/v1/artifacts/${created.id}/$download`);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get("content-type"), "application/x-custom");
      assert.deepEqual([...new Uint8Array(await download.arrayBuffer())], [...bytes]);
    });

    it("uploads a root artifact without parameters", async () => {
      const response = await call(s.app, "POST", "/api/v1/artifacts/$upload", new Uint8Array([9]), OCTETS);
      const created = await json<Artifact>(response, 201);
      assert.deepEqual([created.parent_id, created.level], [null, 0]);
      const download = await call(s.app, "GET", `/api/v1/artifacts/${created.id}/$download`);
      assert.equal(download.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual([...new Uint8Array(await download.arrayBuffer())], [9]);
    });

    it("keeps text uploads byte for byte", async () => {
      const bytes = new Uint8Array([0xff, 0xfe, 0x41, 0x00]);
      const created = await json<Artifact>(await call(s.app, "POST", "/api/v1/artifacts/$upload", bytes, { "content-type": "text/plain" }), 201);
      const download = await call(s.app, "GET", `/api/v1/artifacts/${created.id}/$download`);
      assert.deepEqual([...new Uint8Array(await download.arrayBuffer())], [...bytes]);
    });

    it("answers 415 for a JSON upload and points to the collection", async () => {
      await problem(await call(s.app, "POST", "/api/v1/artifacts/$upload", { data: 1 }), 415, "unsupported-media-type");
      assert.deepEqual(await snapshot(s.db, "artifacts"), []);
    });

    it("answers 404 for an upload under an unknown parent and 422 for a malformed one", async () => {
      await problem(await call(s.app, "POST", `/api/v1/artifacts/$upload?parent_id=${newUlid()}`, new Uint8Array([1]), OCTETS), 404, "not-found");
      await problem(await call(s.app, "POST", "/api/v1/artifacts/$upload?parent_id=nope", new Uint8Array([1]), OCTETS), 422, "validation-failed");
      assert.deepEqual(await snapshot(s.db, "artifacts"), []);
    });

    it("answers 404 for $download of an artifact without payload or an unknown one", async () => {
      const plain = await create({ data: 1 });
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${plain.id}/$download`), 404, "not-found");
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${newUlid()}/$download`), 404, "not-found");
    });
  });
}

for (const store of testStores()) {
  describe(`read-only artifact routes on ${store.name}`, () => {
    let s: TestService;
    before(async () => {
      s = await openService(store, { linking: false, config: false, artifactPermissions: { create: false, update: false, delete: false } });
    });
    after(async () => {
      await s.close();
      await store.cleanup();
    });

    it("answers 405 to POST, PUT and DELETE while $tree and $expand work", async () => {
      const artifacts = s.app.chapkit.context.get<{ create(body: unknown): Promise<{ id: string }> }>("artifacts");
      const root = await artifacts.create({ data: "r" });
      assert.equal((await call(s.app, "POST", "/api/v1/artifacts", { data: 1 })).status, 405);
      assert.equal((await call(s.app, "PUT", `/api/v1/artifacts/${root.id}`, { data: 1 })).status, 405);
      assert.equal((await call(s.app, "DELETE", `/api/v1/artifacts/${root.id}`)).status, 405);
      assert.equal((await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$tree`)).status, 200);
      assert.equal((await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$expand`)).status, 200);
    });

    it("has no $config route without config linking", async () => {
      const response = await call(s.app, "GET", `/api/v1/artifacts/${newUlid()}/$config`);
      assert.equal(response.status, 404);
    });
  });
}
