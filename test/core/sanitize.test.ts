import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { ValidationError } from "../../src/core/errors.ts";
import { sanitizedString } from "../../src/core/sanitize.ts";
import { validateValue } from "../../src/core/validation.ts";

const Note = Type.Object({
  title: sanitizedString({ minLength: 1 }),
  raw: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(sanitizedString())),
  note: Type.Optional(Type.Union([sanitizedString({ sanitize: { trim: false } }), Type.Null()])),
});

describe("declared string sanitising", () => {
  test("trims and NFC-normalises declared fields before validation, and leaves others as sent", () => {
    const out = validateValue<{ title: string; raw: string; tags: string[]; note: string }>(Note, {
      title: "  Cafe\u0301  ",
      raw: "  Cafe\u0301  ",
      tags: [" a ", "b "],
      note: " keep spaces ",
    });
    assert.equal(out.title, "Caf\u00e9");
    assert.equal(out.raw, "  Cafe\u0301  ");
    assert.deepEqual(out.tags, ["a", "b"]);
    assert.equal(out.note, " keep spaces ");
  });

  test("refuses control characters with a 422 naming the field", () => {
    assert.throws(() => validateValue(Note, { title: "a\u0007b", tags: ["ok", "x\u001b[31m"] }), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      const locs = error.errors.map((e) => e.loc.join("."));
      assert.deepEqual(locs.sort(), ["body.tags.1", "body.title"]);
      assert.ok(error.errors.every((e) => e.type === "string_control_characters"));
      return true;
    });
  });

  test("a value that becomes empty after trimming is validated as such", () => {
    assert.throws(() => validateValue(Note, { title: "   " }), ValidationError);
  });
});
