import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { replacePlaceholders, toPostgresPlaceholders } from "../../src/db/placeholders.ts";

describe("SQL placeholders", () => {
  test("each ? outside quotes becomes $1, $2, … in order; quoted text and identifiers keep theirs", () => {
    const sql = `SELECT "a?" , 'b?' , ? FROM t WHERE x = ? AND y = 'it''s ?' AND z = ?`;
    assert.equal(toPostgresPlaceholders(sql), `SELECT "a?" , 'b?' , $1 FROM t WHERE x = $2 AND y = 'it''s ?' AND z = $3`);
    // The same text again answers the same (it is kept), and the first part may be empty.
    assert.equal(toPostgresPlaceholders(sql), `SELECT "a?" , 'b?' , $1 FROM t WHERE x = $2 AND y = 'it''s ?' AND z = $3`);
    assert.equal(replacePlaceholders("?", (i) => `<${i}>`), "<0>");
    assert.equal(replacePlaceholders("??", (i) => `<${i}>`), "<0><1>");
    assert.equal(replacePlaceholders("no placeholders", () => "x"), "no placeholders");
  });

  test("a statement too long to keep is rewritten the same way", () => {
    const values = Array.from({ length: 2000 }, () => "(?, ?)").join(", ");
    const out = toPostgresPlaceholders(`INSERT INTO t (a, b) VALUES ${values}`);
    assert.ok(out.endsWith("($3999, $4000)"));
    assert.equal(out.match(/\$\d+/g)!.length, 4000);
  });
});
