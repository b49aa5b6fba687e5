/**
 * Config ↔ artifact link routes over HTTP (contract §9 and §16 with
 * decisions), on every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { newUlid } from "../../../src/core/ulid.ts";
import { testStores } from "../../_support/stores.ts";
import { call, json, openService, problem, snapshot, type TestService } from "../artifact/_http.ts";

type Artifact = { id: string; data: unknown; parent_id: string | null; level: number };
type Config = { id: string; name: string; data: Record<string, unknown> };
type Node = Artifact & { children: Node[] | null; config: Config | null };

for (const store of testStores()) {
  describe(`config link routes on ${store.name}`, () => {
    let s: TestService;
    const config = async (name: string): Promise<Config> =>
      json<Config>(await call(s.app, "POST", "/api/v1/config", { name, data: { min_samples: 3 } }), 201);
    const artifact = async (body: Record<string, unknown>): Promise<Artifact> =>
      json<Artifact>(await call(s.app, "POST", "/api/v1/artifacts", body), 201);
    const link = (configId: string, artifactId: unknown): Promise<Response> =>
      call(s.app, "POST", `/api/v1/config/${configId}/$link-artifact`, { artifact_id: artifactId });
    const linked = async (configId: string): Promise<string[]> =>
      (await json<Artifact[]>(await call(s.app, "GET", `/api/v1/config/${configId}/$artifacts`), 200)).map((a) => a.id);
    before(async () => {
      s = await openService(store);
    });
    beforeEach(async () => {
      await s.db.exec(`DELETE FROM "artifacts"`);
      await s.db.exec(`DELETE FROM "configs"`);
    });
    after(async () => {
      await s.close();
      await store.cleanup();
    });

    it("links a root with 204, lists it, and unlinks it with 204", async () => {
      const c = await config("c");
      const root = await artifact({ data: "model" });
      await artifact({ data: "prediction", parent_id: root.id });
      const response = await link(c.id, root.id);
      assert.equal(response.status, 204);
      assert.equal(await response.text(), "");
      assert.deepEqual(await linked(c.id), [root.id]);
      const unlink = await call(s.app, "POST", `/api/v1/config/${c.id}/$unlink-artifact`, { artifact_id: root.id });
      assert.equal(unlink.status, 204);
      assert.deepEqual(await linked(c.id), []);
    });

    it("answers 404 when the config or the artifact is missing", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      await problem(await link(newUlid(), root.id), 404, "not-found");
      const missing = newUlid();
      const body = await problem(await link(c.id, missing), 404, "not-found");
      assert.match(String(body.detail), new RegExp(missing));
    });

    it("answers 400 mentioning root when the artifact has a parent", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      const child = await artifact({ data: 2, parent_id: root.id });
      const body = await problem(await link(c.id, child.id), 400, "bad-request");
      assert.match(String(body.detail), /root/);
    });

    it("answers 409 when the artifact is already linked, changing nothing", async () => {
      const a = await config("a");
      const b = await config("b");
      const root = await artifact({ data: 1 });
      assert.equal((await link(a.id, root.id)).status, 204);
      const before = await s.db.query(`SELECT * FROM "config_artifacts"`);
      await problem(await link(a.id, root.id), 409, "conflict");
      await problem(await link(b.id, root.id), 409, "conflict");
      assert.deepEqual(await s.db.query(`SELECT * FROM "config_artifacts"`), before);
    });

    it("answers 422 for a link body without a valid artifact_id and 400 for a malformed config id", async () => {
      const c = await config("c");
      await problem(await call(s.app, "POST", `/api/v1/config/${c.id}/$link-artifact`, {}), 422, "validation-failed");
      const bad = await problem(await link(c.id, "nope"), 422, "validation-failed");
      assert.equal((bad.errors as { type: string }[])[0]?.type, "ulid_format");
      await problem(await link("not-a-ulid", newUlid()), 400, "invalid-ulid");
    });

    it("validates the path id of $unlink-artifact and unlinks only from that config, idempotently", async () => {
      const a = await config("a");
      const b = await config("b");
      const root = await artifact({ data: 1 });
      await link(a.id, root.id);
      await problem(await call(s.app, "POST", "/api/v1/config/anyid/$unlink-artifact", { artifact_id: root.id }), 400, "invalid-ulid");
      assert.equal((await call(s.app, "POST", `/api/v1/config/${b.id}/$unlink-artifact`, { artifact_id: root.id })).status, 204);
      assert.deepEqual(await linked(a.id), [root.id]);
      for (let i = 0; i < 2; i++) {
        assert.equal((await call(s.app, "POST", `/api/v1/config/${a.id}/$unlink-artifact`, { artifact_id: root.id })).status, 204);
      }
      assert.deepEqual(await linked(a.id), []);
    });

    it("lists [] for an unknown config and 400 for a malformed id", async () => {
      assert.deepEqual(await linked(newUlid()), []);
      await problem(await call(s.app, "GET", "/api/v1/config/bad/$artifacts"), 400, "invalid-ulid");
    });

    it("serves $config of a descendant by walking up to the root's config", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      const child = await artifact({ data: 2, parent_id: root.id });
      const grandchild = await artifact({ data: 3, parent_id: child.id });
      await link(c.id, root.id);
      const got = await json<Config>(await call(s.app, "GET", `/api/v1/artifacts/${grandchild.id}/$config`), 200);
      assert.deepEqual(got, c);
      assert.deepEqual(got.data, { min_samples: 3, normalize_features: true });
    });

    it("answers 404 for $config without a linked config or for an unknown artifact, 400 for a malformed id", async () => {
      const root = await artifact({ data: 1 });
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$config`), 404, "not-found");
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${newUlid()}/$config`), 404, "not-found");
      await problem(await call(s.app, "GET", "/api/v1/artifacts/bad/$config"), 400, "invalid-ulid");
    });

    it("shows the config on the $tree root only and not on a child's $expand", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      const child = await artifact({ data: 2, parent_id: root.id });
      await link(c.id, root.id);
      const tree = await json<Node>(await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$tree`), 200);
      assert.equal(tree.config?.id, c.id);
      assert.equal(tree.children?.[0]?.config, null);
      const expanded = await json<Node>(await call(s.app, "GET", `/api/v1/artifacts/${child.id}/$expand`), 200);
      assert.equal(expanded.config, null);
      const rootExpanded = await json<Node>(await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$expand`), 200);
      assert.equal(rootExpanded.config?.name, "c");
    });

    it("deleting a config removes its links and keeps the artifacts", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      await link(c.id, root.id);
      assert.equal((await call(s.app, "DELETE", `/api/v1/config/${c.id}`)).status, 204);
      assert.equal((await call(s.app, "GET", `/api/v1/artifacts/${root.id}`)).status, 200);
      await problem(await call(s.app, "GET", `/api/v1/artifacts/${root.id}/$config`), 404, "not-found");
    });

    it("deleting a linked artifact removes its link", async () => {
      const c = await config("c");
      const root = await artifact({ data: 1 });
      await link(c.id, root.id);
      assert.equal((await call(s.app, "DELETE", `/api/v1/artifacts/${root.id}`)).status, 204);
      assert.deepEqual(await linked(c.id), []);
    });

    it("uploads a trained model for a config: linked, rendered with a placeholder, downloadable", async () => {
      const c = await config("c");
      const bytes = new Uint8Array([8, 1, 18, 3]);
      const response = await call(s.app, "POST", `/api/v1/artifacts/$upload?config_id=${c.id}`, bytes, {
        "content-type": "application/onnx",
      });
      const model = await json<Artifact>(response, 201);
      assert.ok(response.headers.get("location")?.endsWith(`/api/v1/artifacts/${model.id}`));
      assert.deepEqual(model.data, {
        ml_type: "trained_model",
        config_id: c.id,
        model: {
          _type: "bytes",
          _module: "chapkit",
          _repr: "<4 bytes, application/onnx>",
          _serialization_error: "Binary content: download it from $download.",
          _size: 4,
          _content_type: "application/onnx",
        },
      });
      assert.deepEqual(await linked(c.id), [model.id]);
      assert.equal((await json<Config>(await call(s.app, "GET", `/api/v1/artifacts/${model.id}/$config`), 200)).id, c.id);
      const download = await call(s.app, "GET", `/api/v1/artifacts/${model.id}/$download`);
      assert.equal(download.headers.get("content-type"), "application/onnx");
      assert.deepEqual([...new Uint8Array(await download.arrayBuffer())], [...bytes]);
    });

    it("answers 404 for an upload to an unknown config and 400 with both parent_id and config_id, storing nothing", async () => {
      const headers = { "content-type": "application/octet-stream" };
      await problem(await call(s.app, "POST", `/api/v1/artifacts/$upload?config_id=${newUlid()}`, new Uint8Array([1]), headers), 404, "not-found");
      const c = await config("c");
      const root = await artifact({ data: 1 });
      const before = await snapshot(s.db, "artifacts");
      await problem(
        await call(s.app, "POST", `/api/v1/artifacts/$upload?config_id=${c.id}&parent_id=${root.id}`, new Uint8Array([1]), headers),
        400,
        "bad-request",
      );
      assert.deepEqual(await snapshot(s.db, "artifacts"), before);
    });
  });
}
