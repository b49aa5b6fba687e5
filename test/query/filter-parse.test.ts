import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidQueryError } from "../../src/core/errors.ts";
import { parseFilter } from "../../src/core/query/filter-parse.ts";
import { itemsTable } from "./_fixture.ts";

function rejects(source: string, position: number, pattern?: RegExp): void {
  assert.throws(() => parseFilter(source, { table: itemsTable }), (error: unknown) => {
    assert.ok(error instanceof InvalidQueryError);
    assert.equal(error.status, 400);
    assert.equal(error.extensions.parameter, "filter");
    assert.equal(error.extensions.position, position, error.message);
    assert.match(error.message, /filter at position \d+/);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe("parseFilter", () => {
  it("reads a comparison", () => {
    assert.deepEqual(parseFilter("level = 0"), { kind: "compare", field: "level", op: "eq", value: 0 });
  });

  it("binds && tighter than ||", () => {
    const filter = parseFilter('level = 0 || name = "a" && tag = "b"');
    assert.equal(filter.kind, "or");
    assert.deepEqual(filter.kind === "or" && filter.items[1]!.kind, "and");
  });

  it("groups with parentheses and negates with !", () => {
    assert.deepEqual(parseFilter("!(level = 0 || level = 1)"), {
      kind: "not",
      item: { kind: "or", items: [
        { kind: "compare", field: "level", op: "eq", value: 0 },
        { kind: "compare", field: "level", op: "eq", value: 1 },
      ] },
    });
  });

  it("maps every comparison operator", () => {
    const ops = { "=": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "~": "icontains" };
    for (const [symbol, op] of Object.entries(ops)) {
      assert.deepEqual(parseFilter(`name ${symbol} "x"`), { kind: "compare", field: "name", op, value: "x" });
    }
    assert.deepEqual(parseFilter('name !~ "x"'), { kind: "not", item: { kind: "compare", field: "name", op: "icontains", value: "x" } });
  });

  it("reads strings with escapes, negative and decimal numbers, booleans and null", () => {
    assert.deepEqual(parseFilter('name = "a\\"b\\\\c\\u00e9"'), { kind: "compare", field: "name", op: "eq", value: 'a"b\\cé' });
    assert.deepEqual(parseFilter("score >= -1.5e2"), { kind: "compare", field: "score", op: "gte", value: -150 });
    assert.deepEqual(parseFilter("active = true"), { kind: "compare", field: "active", op: "eq", value: true });
  });

  it("turns = null and != null into isnull", () => {
    assert.deepEqual(parseFilter("tag = null"), { kind: "compare", field: "tag", op: "isnull", value: true });
    assert.deepEqual(parseFilter("tag != null"), { kind: "compare", field: "tag", op: "isnull", value: false });
  });

  it("reaches into JSON with dotted paths", () => {
    assert.deepEqual(parseFilter('data.nested.k = "x"', { table: itemsTable }), {
      kind: "compare", field: "data.nested.k", op: "eq", value: "x",
    });
  });

  it("normalises timestamps of timestamp columns", () => {
    assert.deepEqual(parseFilter('created_at > "2025-01-01T00:00:00+02:00"', { table: itemsTable }), {
      kind: "compare", field: "created_at", op: "gt", value: "2024-12-31T22:00:00.000Z",
    });
  });

  it("rejects an unknown field at its position", () => rejects('level = 0 && nope = 1', 14, /unknown field/));
  it("rejects a path into a plain column", () => rejects('name.x = 1', 1, /no nested fields/));
  it("rejects a value of the wrong type for a column", () => rejects('level = "zero"', 9, /integer/));
  it("rejects a fractional value for an integer column", () => rejects("level > 1.5", 9, /integer/));
  it("rejects ordering booleans", () => rejects("active > false", 10));
  it("rejects ~ with a number", () => rejects("data.k ~ 5", 10, /string/));
  it("rejects ordering against null", () => rejects("level > null", 9, /null/));
  it("rejects a missing operator", () => rejects("level 0", 7, /comparison operator/));
  it("rejects a missing value", () => rejects("level =", 8, /value/));
  it("rejects an unclosed parenthesis", () => rejects("(level = 0", 11, /"\)"/));
  it("rejects an unterminated string", () => rejects('name = "abc', 8, /string/));
  it("rejects a stray character", () => rejects("level = 0 & level = 1", 11, /unexpected character/));
  it("rejects trailing tokens", () => rejects("level = 0 level = 1", 11));
  it("rejects an empty expression", () => rejects("   ", 4, /empty/));
  it("rejects nesting deeper than the limit", () => rejects("(".repeat(100) + "level = 0" + ")".repeat(100), 66, /nested/));
  it("rejects a whole JSON column compared with a value", () => rejects('data = "x"', 8, /isnull/));
});
