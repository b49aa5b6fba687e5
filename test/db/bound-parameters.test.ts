/**
 * Every SQL value is a bound parameter: hostile strings are stored, found and
 * filtered literally on every store, and never change the statement.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BadRequestError, ConflictError } from "../../src/core/errors.ts";
import { newUlid } from "../../src/core/ulid.ts";
import { searchWords } from "../../src/db/search-sql.ts";
import { testStores } from "../_support/stores.ts";
import { item, type ItemsStore, openItems } from "./_items.ts";

const HOSTILE = [
  "O'Reilly",
  'say "hi"',
  "'; DROP TABLE items; --",
  "\"); DELETE FROM items; --",
  "100%",
  "a_b",
  "back\\slash",
  "glob*?[x]",
  "$1 ? $2 ?",
  "line\nbreak\ttab",
  "café ÉCOLE",
  "日本語テキスト",
  "emoji 🦀👩‍🔬",
  "مرحبا",
  "   spaced   ",
  "",
];

for (const store of testStores()) {
  describe(`bound parameters on ${store.name}`, () => {
    let s: ItemsStore;
    before(async () => {
      s = await openItems(store);
      await s.repo.insertMany(HOSTILE.map((text, i) => item(`row${String(i).padStart(2, "0")}`, {
        tag: text,
        data: { text, [`key ${i}`]: text },
      })));
    });
    after(async () => {
      await s.db.close();
      await store.cleanup();
    });

    it("stores hostile strings and reads them back unchanged, in columns and JSON", async () => {
      const rows = await s.repo.findMany();
      assert.deepEqual(rows.map((row) => row.tag), HOSTILE);
      assert.deepEqual(rows.map((row) => row.data?.text), HOSTILE);
      rows.forEach((row, i) => assert.equal(row.data?.[`key ${i}`], HOSTILE[i]));
    });

    it("keeps the table after statements that look like SQL injection", async () => {
      assert.equal(await s.repo.count(), HOSTILE.length);
    });

    for (const [i, text] of HOSTILE.entries()) {
      it(`matches ${JSON.stringify(text)} exactly with eq, in a column and in JSON`, async () => {
        const byTag = await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "eq", value: text } });
        assert.deepEqual(byTag.map((row) => row.tag), [text]);
        const byJson = await s.repo.findMany({ filter: { kind: "compare", field: "data.text", op: "eq", value: text } });
        assert.deepEqual(byJson.map((row) => row.name), [`row${String(i).padStart(2, "0")}`]);
      });
    }

    it("treats % and _ literally in contains, startswith and endswith", async () => {
      const contains = async (value: string): Promise<(string | null)[]> =>
        (await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "contains", value } })).map((r) => r.tag);
      assert.deepEqual(await contains("%"), ["100%"]);
      assert.deepEqual(await contains("_"), ["a_b"]);
      assert.deepEqual(await contains("\\"), ["back\\slash"]);
      assert.deepEqual(await contains("*?[x]"), ["glob*?[x]"]);
      assert.deepEqual(await contains("?"), ["glob*?[x]", "$1 ? $2 ?"]);
      const starts = await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "startswith", value: "'" } });
      assert.deepEqual(starts.map((r) => r.tag), ["'; DROP TABLE items; --"]);
      const ends = await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "endswith", value: "%" } });
      assert.deepEqual(ends.map((r) => r.tag), ["100%"]);
    });

    it("treats % and _ literally in icontains", async () => {
      const icontains = await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "icontains", value: "A_B" } });
      assert.deepEqual(icontains.map((r) => r.tag), ["a_b"]);
    });

    it("searches % and _ as word separators, never as patterns", async () => {
      assert.deepEqual((await s.repo.findMany({ search: "100%" })).map((r) => r.tag), ["100%"]);
      assert.deepEqual((await s.repo.findMany({ search: "a_b" })).map((r) => r.tag), ["a_b"]);
      assert.deepEqual(await s.repo.findMany({ search: "_" }), []);
      assert.deepEqual(await s.repo.findMany({ search: "%" }), []);
      assert.equal(await s.repo.count({ search: "%_%" }), 0);
    });

    for (const text of HOSTILE.filter((t) => searchWords(t).length > 0)) {
      it(`finds ${JSON.stringify(text)} by searching its own text`, async () => {
        const rows = await s.repo.findMany({ search: text });
        assert.ok(rows.some((r) => r.tag === text), JSON.stringify(rows.map((r) => r.tag)));
        assert.equal(await s.repo.count({ search: text }), rows.length);
      });
    }

    it("reads search operators of either store as plain words", async () => {
      const syntax = ['"', "'", "\\", "*", "NEAR(a b)", "a OR b", "tag:zz", "^zz", "a & !b | c:*", "zz <-> y", "-", "AND", "NOT DROP"];
      for (const text of syntax) {
        assert.deepEqual(await s.repo.findMany({ search: text }), [], text);
      }
      assert.deepEqual((await s.repo.findMany({ search: "DROP OR TABLE" })).map((r) => r.tag), []);
      assert.deepEqual((await s.repo.findMany({ search: "DROP TABLE" })).map((r) => r.tag), ["'; DROP TABLE items; --"]);
      assert.equal(await s.repo.count(), HOSTILE.length);
    });

    it("matches unicode text with contains", async () => {
      const rows = await s.repo.findMany({ filter: { kind: "compare", field: "tag", op: "contains", value: "🦀" } });
      assert.deepEqual(rows.map((r) => r.tag), ["emoji 🦀👩‍🔬"]);
    });

    it("looks up a hostile id without error and finds nothing", async () => {
      assert.equal(await s.repo.findById("' OR '1'='1"), null);
      assert.equal(await s.repo.exists("' OR 1=1 --"), false);
      assert.equal(await s.repo.delete("' OR 1=1 --"), false);
      assert.equal(await s.repo.count(), HOSTILE.length);
    });

    it("updates a row to a hostile value and back", async () => {
      const [row] = await s.repo.findMany({ limit: 1 });
      const updated = await s.repo.update(row!.id, { tag: "x'); DROP TABLE items; --" });
      assert.equal(updated?.tag, "x'); DROP TABLE items; --");
      await s.repo.update(row!.id, { tag: row!.tag });
      assert.equal(await s.repo.count(), HOSTILE.length);
    });
  });
}

for (const store of testStores()) {
  describe(`driver errors on ${store.name}`, () => {
    let s: ItemsStore;
    before(async () => {
      s = await openItems(store);
    });
    after(async () => {
      await s.db.close();
      await store.cleanup();
    });

    it("names the violated unique column in the ConflictError", async () => {
      await s.repo.insert(item("dup"));
      const error = await s.repo.insert(item("dup")).catch((e: unknown) => e);
      assert.ok(error instanceof ConflictError);
      assert.equal(error.status, 409);
      assert.match(error.message, /name/);
    });

    it("turns a missing required value into BadRequestError", async () => {
      await assert.rejects(s.repo.insert({ name: null, active: false } as never), BadRequestError);
    });

    it("keeps the driver's error as the cause, for the log", async () => {
      await s.repo.insert(item("cause"));
      const error = await s.repo.insert({ ...item("cause"), id: newUlid() }).catch((e: unknown) => e);
      assert.ok(error instanceof ConflictError);
      assert.ok(error.cause instanceof Error);
    });
  });
}
