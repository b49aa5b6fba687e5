/**
 * Config ↔ artifact links without HTTP (contract §9 with decisions), on
 * every store.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { BadRequestError, ConflictError, NotFoundError } from "../../../src/core/errors.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import { PAYLOAD_MARKER } from "../../../src/modules/artifact/payload.ts";
import { testStores } from "../../_support/stores.ts";
import { failure, type Modules, openModules } from "../artifact/_fixture.ts";

for (const store of testStores()) {
  describe(`config links on ${store.name}`, () => {
    let m: Modules;
    before(async () => {
      m = await openModules(store);
    });
    beforeEach(async () => {
      await m.db.exec(`DELETE FROM "artifacts"`);
      await m.db.exec(`DELETE FROM "configs"`);
    });
    after(async () => {
      await m.db.close();
      await store.cleanup();
    });

    it("links a root artifact and lists it, then unlinks it", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: "model" });
      await m.artifacts.create({ data: "child", parent_id: root.id });
      await m.links.link(config.id, root.id);
      assert.deepEqual(await m.links.artifactsOf(config.id), [await m.artifacts.get(root.id)]);
      await m.links.unlink(config.id, root.id);
      assert.deepEqual(await m.links.artifactsOf(config.id), []);
      await m.links.unlink(config.id, root.id);
    });

    it("unlinks only from the config named", async () => {
      const a = await m.configs.create({ name: "a", data: {} });
      const b = await m.configs.create({ name: "b", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      await m.links.link(a.id, root.id);
      await m.links.unlink(b.id, root.id);
      assert.equal((await m.links.artifactsOf(a.id)).length, 1);
    });

    it("refuses links to an unknown config or artifact with 404", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      const noConfig = await failure(m.links.link(newUlid(), root.id));
      assert.ok(noConfig instanceof NotFoundError);
      assert.match(noConfig.message, /Config/);
      const missing = newUlid();
      const noArtifact = await failure(m.links.link(config.id, missing));
      assert.ok(noArtifact instanceof NotFoundError);
      assert.equal(noArtifact.message, `Artifact ${missing} not found`);
    });

    it("refuses to link a non-root artifact with 400 mentioning root", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      const error = await failure(m.links.link(config.id, child.id));
      assert.ok(error instanceof BadRequestError);
      assert.match(error.message, /root/);
      assert.deepEqual(await m.links.artifactsOf(config.id), []);
    });

    it("refuses a second link of an artifact with 409, to the same or another config", async () => {
      const a = await m.configs.create({ name: "a", data: {} });
      const b = await m.configs.create({ name: "b", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      await m.links.link(a.id, root.id);
      assert.ok(await failure(m.links.link(a.id, root.id)) instanceof ConflictError);
      assert.ok(await failure(m.links.link(b.id, root.id)) instanceof ConflictError);
      assert.deepEqual(await m.links.artifactsOf(b.id), []);
    });

    it("finds the config of a descendant by walking up to its root", async () => {
      const config = await m.configs.create({ name: "c", data: { min_samples: 3 } });
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      const grandchild = await m.artifacts.create({ data: 3, parent_id: child.id });
      await m.links.link(config.id, root.id);
      assert.deepEqual(await m.links.configOf(grandchild.id), config);
      assert.deepEqual(await m.links.configOf(root.id), config);
    });

    it("answers 404 for the config of an unlinked or unknown artifact", async () => {
      const root = await m.artifacts.create({ data: 1 });
      assert.ok(await failure(m.links.configOf(root.id)) instanceof NotFoundError);
      assert.ok(await failure(m.links.configOf(newUlid())) instanceof NotFoundError);
    });

    it("lists nothing for an unknown config", async () => {
      assert.deepEqual(await m.links.artifactsOf(newUlid()), []);
    });

    it("shows the linked config on the top node of a tree only", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      const child = await m.artifacts.create({ data: 2, parent_id: root.id });
      await m.links.link(config.id, root.id);
      const tree = await m.artifacts.tree(root.id);
      assert.deepEqual(tree.config, config);
      assert.equal(tree.children?.[0]?.config, null);
      assert.deepEqual((await m.artifacts.expand(root.id)).config, config);
      assert.equal((await m.artifacts.expand(child.id)).config, null);
      assert.equal((await m.artifacts.tree(child.id)).config, null);
    });

    it("refuses to move a linked root under another artifact", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      const other = await m.artifacts.create({ data: 2 });
      await m.links.link(config.id, root.id);
      const error = await failure(m.artifacts.update(root.id, { data: 1, parent_id: other.id }));
      assert.ok(error instanceof ConflictError);
      assert.equal((await m.artifacts.get(root.id)).parent_id, null);
    });

    it("deleting a config removes its links but not the artifacts", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      await m.links.link(config.id, root.id);
      await m.configs.delete(config.id);
      assert.deepEqual((await m.artifacts.get(root.id)).data, 1);
      assert.equal(await m.links.linkedConfig(root.id), null);
      assert.equal((await m.db.query(`SELECT 1 FROM "config_artifacts"`)).length, 0);
    });

    it("deleting a linked artifact removes its link and keeps the config", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const root = await m.artifacts.create({ data: 1 });
      await m.links.link(config.id, root.id);
      await m.artifacts.delete(root.id);
      assert.deepEqual(await m.links.artifactsOf(config.id), []);
      assert.deepEqual(await m.configs.get(config.id), config);
    });

    it("creates a linked artifact with a payload in one step", async () => {
      const config = await m.configs.create({ name: "c", data: {} });
      const model = await m.links.createLinked(
        config.id,
        { data: { ml_type: "trained_model", config_id: config.id, model: PAYLOAD_MARKER } },
        { bytes: new Uint8Array([1, 2, 3]), contentType: "application/onnx" },
      );
      assert.deepEqual((await m.links.artifactsOf(config.id)).map((a) => a.id), [model.id]);
      assert.ok(await failure(m.links.createLinked(newUlid(), { data: 1 })) instanceof NotFoundError);
      assert.equal((await m.artifacts.list()).length, 1);
    });
  });
}
