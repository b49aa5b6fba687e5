/** MessagePack content negotiation over real HTTP, on SQLite and PostgreSQL. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pack, unpack } from "msgpackr";
import { prefersMsgpack } from "../../src/http/negotiation.ts";
import { type ApiService, serveNotes, STORES } from "./_api-service.ts";

const MSGPACK = "application/msgpack";

describe("prefersMsgpack", () => {
  it("chooses MessagePack only when it ranks at least as high as JSON", () => {
    assert.equal(prefersMsgpack(null), false);
    assert.equal(prefersMsgpack("application/json"), false);
    assert.equal(prefersMsgpack("application/msgpack"), true);
    assert.equal(prefersMsgpack("application/json, application/x-msgpack;q=0.5"), false);
    assert.equal(prefersMsgpack("application/json;q=0.4, application/vnd.msgpack"), true);
    assert.equal(prefersMsgpack("application/msgpack;q=0"), false);
  });
});

for (const store of STORES) {
  describe(`MessagePack over HTTP (${store.name})`, () => {
    let service: ApiService;
    before(async () => {
      service = await serveNotes(await store.open());
    });
    after(() => service.stop());

    it("creates from a MessagePack body and answers MessagePack with the same data as JSON", async () => {
      const input = { title: "packed", stars: 3, tags: ["a", "ü", "🙂"] };
      const created = await fetch(`${service.url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": MSGPACK, accept: MSGPACK },
        body: pack(input) as BodyInit,
      });
      assert.equal(created.status, 201);
      assert.equal(created.headers.get("content-type"), MSGPACK);
      const packed = unpack(new Uint8Array(await created.arrayBuffer())) as Record<string, unknown>;
      const asJson = await (await fetch(`${service.url}/api/v1/notes/${packed.id}`)).json();
      assert.deepEqual(packed, asJson);
      assert.deepEqual({ title: packed.title, stars: packed.stars, tags: packed.tags }, input);
    });

    it("answers a list as MessagePack identical to its JSON, with Vary: Accept", async () => {
      const json = await (await fetch(`${service.url}/api/v1/notes?sort=title`)).json();
      const answer = await fetch(`${service.url}/api/v1/notes?sort=title`, { headers: { accept: MSGPACK } });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get("vary") ?? "", /Accept/);
      assert.deepEqual(unpack(new Uint8Array(await answer.arrayBuffer())), json);
    });

    it("keeps JSON when the client prefers it", async () => {
      const answer = await fetch(`${service.url}/api/v1/notes`, { headers: { accept: "application/json, application/msgpack;q=0.1" } });
      assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
      assert.ok(Array.isArray(await answer.json()));
    });

    it("refuses a malformed MessagePack body with a 422 problem and stores nothing", async () => {
      const before = (await (await fetch(`${service.url}/api/v1/notes`)).json()) as unknown[];
      const answer = await fetch(`${service.url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": MSGPACK, accept: MSGPACK },
        body: new Uint8Array([0xdc, 0xff]) as BodyInit,
      });
      assert.equal(answer.status, 422);
      assert.equal(answer.headers.get("content-type"), "application/problem+json");
      const problem = await answer.json();
      assert.equal(problem.errors[0].type, "msgpack_invalid");
      const after = (await (await fetch(`${service.url}/api/v1/notes`)).json()) as unknown[];
      assert.equal(after.length, before.length);
    });

    it("validates a MessagePack body like JSON (422 naming the field)", async () => {
      const answer = await fetch(`${service.url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": MSGPACK },
        body: pack({ title: "no stars" }) as BodyInit,
      });
      assert.equal(answer.status, 422);
      const problem = await answer.json();
      assert.ok(problem.errors.some((error: { loc: unknown[] }) => error.loc.includes("stars")), JSON.stringify(problem));
    });

    it("refuses a MessagePack body nested deeper than JSON may be (400)", async () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = [deep];
      const answer = await fetch(`${service.url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": MSGPACK },
        body: pack({ title: "deep", stars: 1, tags: deep }) as BodyInit,
      });
      assert.equal(answer.status, 400);
    });
  });
}
