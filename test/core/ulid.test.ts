/** ULIDs: generation (format, order) and strict parsing (contract §3.1). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidUlidError } from "../../src/core/errors.ts";
import { isUlid, newUlid, parseUlid, ulidTime } from "../../src/core/ulid.ts";

describe("newUlid", () => {
  it("makes 26 upper-case Crockford base32 characters starting with 0-7", () => {
    for (let i = 0; i < 1000; i++) assert.match(newUlid(), /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  });

  it("encodes the current millisecond in its first ten characters", () => {
    const before = Date.now();
    const id = newUlid();
    const after = Date.now();
    assert.ok(ulidTime(id) >= before && ulidTime(id) <= after);
  });

  it("encodes a given time", () => {
    assert.equal(ulidTime(newUlid(Date.UTC(2030, 0, 1))), Date.UTC(2030, 0, 1));
  });

  it("strictly increases for many ids made in a tight loop", () => {
    const ids = Array.from({ length: 20000 }, () => newUlid());
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  });

  it("strictly increases for ids made within one millisecond", () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 1000 }, () => newUlid(now));
    assert.ok(ids.every((id) => ulidTime(id) === now));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
  });

  it("never repeats", () => {
    const ids = new Set(Array.from({ length: 20000 }, () => newUlid()));
    assert.equal(ids.size, 20000);
  });
});

describe("parseUlid", () => {
  it("accepts a canonical ULID and returns it", () => {
    assert.equal(parseUlid("01K72P5N5KCRM6MD3BRE4P0999"), "01K72P5N5KCRM6MD3BRE4P0999");
    assert.equal(parseUlid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  });

  const invalid: [string, string][] = [
    ["lower case", "01k72p5n5kcrm6md3bre4p0999"],
    ["mixed case", "01K72P5N5KCRM6MD3BRE4p0999"],
    ["the letter I", "01K72P5N5KCRM6MD3BRE4P099I"],
    ["the letter L", "01K72P5N5KCRM6MD3BRE4P099L"],
    ["the letter O", "01K72P5N5KCRM6MD3BRE4P099O"],
    ["the letter U", "01K72P5N5KCRM6MD3BRE4P099U"],
    ["25 characters", "01K72P5N5KCRM6MD3BRE4P099"],
    ["27 characters", "01K72P5N5KCRM6MD3BRE4P09999"],
    ["an empty string", ""],
    ["a first character above 7", "81K72P5N5KCRM6MD3BRE4P0999"],
    ["a hyphenated UUID", "0188f0b8-5b5e-7c5e-9c5e-5e5e5e5e5e5e"],
    ["surrounding spaces", " 01K72P5N5KCRM6MD3BRE4P0999 "],
  ];
  for (const [what, value] of invalid) {
    it(`rejects ${what} with InvalidUlidError`, () => {
      assert.throws(() => parseUlid(value), InvalidUlidError);
      assert.equal(isUlid(value), false);
    });
  }

  it("says which value was invalid, as a 400 invalid-ulid problem at the given instance", () => {
    const error = (() => {
      try {
        parseUlid("not-a-ulid", "/api/v1/config/not-a-ulid");
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof InvalidUlidError);
    assert.deepEqual(error.toProblem(), {
      type: "urn:chapkit:error:invalid-ulid",
      title: "Invalid ULID Format",
      status: 400,
      detail: "Invalid ULID format: not-a-ulid",
      instance: "/api/v1/config/not-a-ulid",
    });
  });

  it("isUlid rejects values that are not strings", () => {
    for (const value of [null, undefined, 123, {}, ["01K72P5N5KCRM6MD3BRE4P0999"]]) assert.equal(isUlid(value), false);
  });
});
