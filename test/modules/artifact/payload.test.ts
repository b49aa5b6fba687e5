/**
 * Binary payloads (decisions: binary artifact content): bytes stored
 * verbatim beside the JSON data, rendered as a placeholder where the data
 * refers to them, on every store.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NotFoundError } from "../../../src/core/errors.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import {
  isPayloadPlaceholder,
  PAYLOAD_MARKER,
  payloadPlaceholder,
} from "../../../src/modules/artifact/payload.ts";
import { testStores } from "../../_support/stores.ts";
import { failure, type Modules, openModules } from "./_fixture.ts";

const BYTES = new Uint8Array(Array.from({ length: 1024 }, (_, i) => (i * 37) % 256));

for (const store of testStores()) {
  describe(`artifact payloads on ${store.name}`, () => {
    let m: Modules;
    before(async () => {
      m = await openModules(store);
    });
    after(async () => {
      await m.db.close();
      await store.cleanup();
    });

    it("renders the marked value as the placeholder and keeps the rest of data", async () => {
      const configId = newUlid();
      const out = await m.artifacts.create(
        { data: { ml_type: "trained_model", config_id: configId, model: PAYLOAD_MARKER } },
        { bytes: BYTES, contentType: "application/onnx" },
      );
      assert.deepEqual(out.data, {
        ml_type: "trained_model",
        config_id: configId,
        model: {
          _type: "bytes",
          _module: "chapkit",
          _repr: "<1024 bytes, application/onnx>",
          _serialization_error: "Binary content: download it from $download.",
          _size: 1024,
          _content_type: "application/onnx",
        },
      });
      assert.deepEqual((await m.artifacts.get(out.id)).data, out.data);
      assert.ok(isPayloadPlaceholder((out.data as { model: unknown }).model));
    });

    it("downloads the bytes verbatim with their content type", async () => {
      const out = await m.artifacts.create({ data: { model: PAYLOAD_MARKER } }, { bytes: BYTES, contentType: "application/x-test" });
      const payload = await m.artifacts.download(out.id);
      assert.equal(payload.contentType, "application/x-test");
      assert.deepEqual([...payload.bytes], [...BYTES]);
      assert.equal(payload.bytes.constructor, Uint8Array);
    });

    it("stores an empty payload", async () => {
      const out = await m.artifacts.create({ data: PAYLOAD_MARKER }, { bytes: new Uint8Array(), contentType: "application/octet-stream" });
      assert.deepEqual(out.data, payloadPlaceholder(0, "application/octet-stream"));
      assert.equal((await m.artifacts.download(out.id)).bytes.byteLength, 0);
    });

    it("keeps a marker literally when no payload comes with it", async () => {
      const out = await m.artifacts.create({ data: { model: { $chapkit: "payload" } } });
      assert.deepEqual(out.data, { model: { $chapkit: "payload" } });
    });

    it("answers 404 when downloading an artifact without payload or an unknown one", async () => {
      const plain = await m.artifacts.create({ data: { k: 1 } });
      const none = await failure(m.artifacts.download(plain.id));
      assert.ok(none instanceof NotFoundError);
      assert.match(none.message, /no binary content/);
      assert.ok(await failure(m.artifacts.download(newUlid())) instanceof NotFoundError);
    });

    it("removes the payload with its artifact", async () => {
      const root = await m.artifacts.create({ data: "root" });
      const child = await m.artifacts.create({ data: PAYLOAD_MARKER, parent_id: root.id }, { bytes: BYTES, contentType: "a/b" });
      await m.artifacts.delete(root.id);
      assert.ok(await failure(m.artifacts.download(child.id)) instanceof NotFoundError);
      const [row] = await m.db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "artifact_payloads"`);
      assert.equal(Number(row?.n), (await m.db.query(`SELECT "artifact_id" FROM "artifact_payloads"`)).length);
      assert.equal((await m.db.query(`SELECT 1 FROM "artifact_payloads" WHERE "artifact_id" = ?`, [child.id])).length, 0);
    });

    it("keeps the payload when only data is updated", async () => {
      const out = await m.artifacts.create({ data: { model: PAYLOAD_MARKER } }, { bytes: BYTES, contentType: "a/b" });
      await m.artifacts.update(out.id, { ...out, data: { ...(out.data as object), note: "x" } });
      assert.equal((await m.artifacts.download(out.id)).bytes.byteLength, BYTES.byteLength);
    });

    it("shows placeholders in lists beside plain JSON items", async () => {
      const listed = await m.artifacts.list();
      assert.ok(listed.some((a) => isPayloadPlaceholder((a.data as { model?: unknown } | null)?.model)));
      assert.ok(listed.some((a) => JSON.stringify(a.data) === JSON.stringify({ k: 1 })));
    });
  });
}
