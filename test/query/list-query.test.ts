import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeCursor } from "../../src/core/query/cursor.ts";
import { defineTable } from "../../src/core/entity.ts";
import { InvalidQueryError, ValidationError } from "../../src/core/errors.ts";
import { parseListQuery } from "../../src/core/query/list-query.ts";
import { selectFields } from "../../src/core/query/list-result.ts";
import { itemsTable } from "./_fixture.ts";

const parse = (query: string, options: { maxLimit?: number; allow?: string[] } = {}) =>
  parseListQuery(new URLSearchParams(query), { table: itemsTable, ...options });

function rejects(query: string, parameter: string, position?: number, pattern?: RegExp): void {
  assert.throws(() => parse(query), (error: unknown) => {
    assert.ok(error instanceof InvalidQueryError, String(error));
    assert.equal(error.type, "urn:chapkit:error:invalid-query");
    assert.equal(error.extensions.parameter, parameter, error.message);
    if (position !== undefined) assert.equal(error.extensions.position, position, error.message);
    assert.ok(error.message.includes(parameter));
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe("parseListQuery", () => {
  it("answers a plain array of everything by default", () => {
    assert.deepEqual(parse(""), { mode: "all", query: {}, count: true, signature: "" });
  });

  it("keeps the plain array when only one of page and size is given", () => {
    assert.equal(parse("page=2").mode, "all");
    assert.equal(parse("size=2").mode, "all");
  });

  it("asks for a page with both page and size", () => {
    const request = parse("page=3&size=10");
    assert.equal(request.mode, "page");
    assert.deepEqual(request.page, { page: 3, size: 10 });
    assert.deepEqual(request.query, { limit: 10, offset: 20 });
  });

  it("switches to cursor paging with limit, reading one row more", () => {
    const request = parse("limit=20");
    assert.equal(request.mode, "cursor");
    assert.equal(request.limit, 20);
    assert.equal(request.query.limit, 21);
  });

  it("defaults the cursor page size to 50", () => {
    const token = encodeCursor({ query: "", values: [], id: "01K72P5N5KCRM6MD3BRE4P0999" });
    const request = parse(`cursor=${token}`);
    assert.equal(request.limit, 50);
    assert.deepEqual(request.query.after, { values: [], id: "01K72P5N5KCRM6MD3BRE4P0999" });
  });

  it("reads both sort notations", () => {
    assert.deepEqual(parse("sort=created_at:desc,name:asc").query.sort, [
      { field: "created_at", direction: "desc" },
      { field: "name", direction: "asc" },
    ]);
    assert.deepEqual(parse("sort=-created_at,name,data.min_samples").query.sort, [
      { field: "created_at", direction: "desc" },
      { field: "name", direction: "asc" },
      { field: "data.min_samples", direction: "asc" },
    ]);
  });

  it("ands field filters and filter expressions", () => {
    const { query } = parse("level[gte]=1&filter=tag = \"b\"");
    assert.deepEqual(query.filter, { kind: "and", items: [
      { kind: "compare", field: "level", op: "gte", value: 1 },
      { kind: "compare", field: "tag", op: "eq", value: "b" },
    ] });
  });

  it("ignores parameters starting with _ and the ones a route allows", () => {
    assert.equal(parse("_=123&_cache=x").query.filter, undefined);
    assert.equal(parse("cascade=false", { allow: ["cascade"] }).query.filter, undefined);
  });

  it("reads count=false", () => assert.equal(parse("limit=5&count=false").count, false));

  it("takes search words for searchable tables", () => assert.equal(parse("q=  rain  ").query.search, "rain"));

  it("rejects an unknown parameter", () => rejects("colour=red", "colour", 1, /unknown parameter or field/));
  it("rejects an unknown operator at its position", () => rejects("level[like]=1", "level[like]", 7, /unknown operator/));
  it("rejects a malformed parameter name", () => rejects("level[gt=1", "level[gt", undefined, /unknown parameter/));
  it("rejects a non-integer value for an integer column", () => rejects("level=abc", "level", 1, /number/));
  it("rejects a bad element of an in list at its position", () => rejects("level[in]=1,x,3", "level[in]", 3));
  it("rejects isnull without true or false", () => rejects("tag[isnull]=yes", "tag[isnull]"));
  it("rejects contains on a number column", () => rejects("level[contains]=1", "level[contains]", 1, /text field/));
  it("rejects a bad timestamp", () => rejects("seen_at[gt]=yesterday", "seen_at[gt]", 1, /timestamp/));
  it("rejects page below 1 with a 422 validation problem, as contract section 5 says", () => {
    assert.throws(() => parse("page=0&size=10"), (error: unknown) =>
      error instanceof ValidationError && error.status === 422 &&
      JSON.stringify(error.errors) === JSON.stringify([{ loc: ["query", "page"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" }]));
  });
  it("rejects a non-integer size with a 422 int_parsing error", () => {
    assert.throws(() => parse("page=1&size=ten"), (error: unknown) =>
      error instanceof ValidationError && error.errors[0]!.type === "int_parsing" && error.errors[0]!.loc[1] === "size");
  });
  it("rejects a limit above the maximum", () => rejects("limit=1001", "limit", 1, /1000/));
  it("rejects page and limit together", () => rejects("page=1&size=2&limit=3", "page"));
  it("rejects a repeated reserved parameter", () => rejects("sort=name&sort=tag", "sort"));
  it("rejects sorting on an unknown field at its position", () => rejects("sort=name,-nope", "sort", 6, /unknown field/));
  it("rejects sorting on a whole JSON column", () => rejects("sort=data", "sort", 1, /cannot sort/));
  it("rejects a malformed sort key", () => rejects("sort=name:up", "sort", 1));
  it("rejects an unknown selected field at its position", () => rejects("fields=id,nope", "fields", 4));
  it("rejects a malformed filter expression at its position", () => rejects("filter=level = ", "filter", 9));
  it("rejects count other than true or false", () => rejects("count=0", "count"));

  it("rejects search on a table without searchable fields", () => {
    const plain = defineTable({ name: "plain", columns: { title: { type: "text" } } });
    assert.throws(() => parseListQuery(new URLSearchParams("q=x"), { table: plain }), InvalidQueryError);
  });
});

describe("selectFields", () => {
  it("keeps only the selected fields and the nesting of paths", () => {
    const item = { id: "1", name: "a", data: { min_samples: 5, other: 1, deep: { x: 1, y: 2 } } };
    assert.deepEqual(selectFields(item, ["id", "data.min_samples", "data.deep.y", "data.missing"]), {
      id: "1",
      data: { min_samples: 5, deep: { y: 2 } },
    });
  });
});
