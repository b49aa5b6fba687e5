import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { InvalidQueryError } from "../../src/core/errors.ts";
import { parseFilter } from "../../src/core/query/filter-parse.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { SqlRepository } from "../../src/db/repository.ts";
import { testStores } from "../_support/stores.ts";
import { type ItemRecord, itemsTable, seedItems } from "./_fixture.ts";
import { matches } from "./_eval.ts";

const FIELDS = [
  "name", "level", "score", "active", "tag", "seen_at", "id", "created_at",
  "data.min_samples", "data.ml_type", "data.flag", "data.nested.k", "data.arr", "data", "nope", "name.x",
];
const OPS = ["=", "!=", ">", ">=", "<", "<=", "~", "!~"];
const PIECES = ["a", "W", "e", "_", "%", "*", "?", "[", "\\", "\"", "5", "x", "\u00fc", " ", "weather", "trained_model", "2025-01-01"];

const literal = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 3 }).map((parts) => JSON.stringify(parts.join(""))),
  fc.integer({ min: -4, max: 12 }).map(String),
  fc.constantFrom("1.5", "2.25", "-3", "2.5", "true", "false", "null", '"2025-01-01T00:00:00.000Z"', '"TRAINED_MODEL"'),
);
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 3 }).map((parts) => JSON.stringify(parts.join("")));
const number = fc.oneof(fc.integer({ min: -4, max: 12 }).map(String), fc.constantFrom("1.5", "2.25", "-3", "100"));
const timestamp = fc.constantFrom('"2025-01-01T00:00:00.000Z"', '"2025-01-01"', '"2024-12-31T23:59:59.999Z"', '"2030-01-01T00:00:00Z"');
const eqOps = fc.constantFrom("=", "!=");
const typed = fc.oneof(
  fc.tuple(fc.constantFrom("name", "tag", "data.ml_type", "data.nested.k"), fc.constantFrom(...OPS), text),
  fc.tuple(fc.constantFrom("level", "score", "data.min_samples", "data.nested.k"), fc.constantFrom("=", "!=", ">", ">=", "<", "<="), number),
  fc.tuple(fc.constantFrom("active", "data.flag"), eqOps, fc.constantFrom("true", "false")),
  fc.tuple(fc.constantFrom("seen_at", "created_at"), fc.constantFrom("=", "!=", ">", ">=", "<", "<="), timestamp),
  fc.tuple(fc.constantFrom(...FIELDS), eqOps, fc.constant("null")),
);
const comparison = fc.oneof(
  { arbitrary: typed, weight: 5 },
  { arbitrary: fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom(...OPS), literal), weight: 1 },
).map(([f, o, v]) => `${f} ${o} ${v}`);
const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    comparison,
    tie("expr").map((e) => `!${e}`),
    tie("expr").map((e) => `(${e})`),
    fc.tuple(tie("expr"), fc.constantFrom("&&", "||"), tie("expr")).map(([a, o, b]) => `${a} ${o} ${b}`),
  ),
}));
// Valid expressions and damaged ones (a character inserted, or the text cut short).
const source = fc.oneof(
  expr,
  fc.tuple(expr, fc.nat(), fc.constantFrom("(", ")", "!", "&", "|", "\"", "=", "x", "1", " ")).map(([e, at, c]) => e.slice(0, at % (e.length + 1)) + c + e.slice(at % (e.length + 1))),
  fc.tuple(expr, fc.nat()).map(([e, at]) => e.slice(0, at % (e.length + 1))),
);

for (const store of testStores()) {
  describe(`filter grammar on ${store.name}`, () => {
    let db: Driver;
    let repo: SqlRepository<ItemRecord>;
    let rows: ItemRecord[];
    before(async () => {
      db = await store.open();
      ({ repo, rows } = await seedItems(db));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it("either rejects an expression as invalid-query or matches what in-memory evaluation matches", async () => {
      let parsed = 0;
      await fc.assert(
        fc.asyncProperty(source, async (text) => {
          let filter;
          try {
            filter = parseFilter(text, { table: itemsTable });
          } catch (error) {
            assert.ok(error instanceof InvalidQueryError, `${text}: ${String(error)}`);
            assert.match(error.message, /position \d+/);
            return;
          }
          parsed += 1;
          const found = await repo.findMany({ filter });
          const expected = rows.filter((row) => matches(row as never, filter)).map((row) => row.id);
          assert.deepEqual(found.map((row) => row.id), expected, text);
        }),
        { numRuns: 300, seed: 20260101 },
      );
      assert.ok(parsed > 50, `only ${parsed} generated expressions parsed`);
    });
  });
}
