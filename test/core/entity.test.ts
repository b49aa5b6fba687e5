/** defineTable: identifiers are checked once, so SQL names never come from input. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineTable } from "../../src/core/entity.ts";

describe("defineTable", () => {
  it("rejects table and column names that are not plain identifiers", () => {
    assert.throws(() => defineTable({ name: "bad name", columns: {} }), TypeError);
    assert.throws(() => defineTable({ name: "t", columns: { 'x"y': { type: "text" } } }), TypeError);
  });

  it("rejects declaring the implicit base columns", () => {
    assert.throws(() => defineTable({ name: "t", columns: { id: { type: "ulid" } } }), /implicit/);
  });

  it("rejects an index on an unknown column", () => {
    assert.throws(() => defineTable({ name: "t", columns: {}, indexes: [{ columns: ["nope"] }] }), /unknown column/);
  });
});
