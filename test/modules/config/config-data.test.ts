/**
 * Config data as read back from a store: whatever the stored document looks
 * like, the output is the data validated against today's schema.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { toConfigOut } from "../../../src/modules/config/manager.ts";
import type { ConfigRecord } from "../../../src/modules/config/schema.ts";
import { normalizeConfigSchema } from "../../../src/modules/config/schema.ts";

const record = (data: Record<string, unknown>): ConfigRecord => ({
  id: "01K79YAHJ7BR4E87VVTG8FNBMA",
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  name: "stored",
  data,
  tags: null,
});

describe("config data on read", () => {
  const schema = normalizeConfigSchema(Type.Object({ k: Type.Integer({ default: 3 }), tag: Type.String({ default: "x" }) }));

  it("answers valid stored data with declared fields first and extras after", () => {
    const out = toConfigOut(schema, record({ extra: [1], tag: "y", k: 4 }));
    assert.deepEqual(Object.keys(out.data), ["k", "tag", "extra"]);
    assert.deepEqual(out.data, { k: 4, tag: "y", extra: [1] });
  });

  it("fills the default of a required field the stored data lacks", () => {
    assert.deepEqual(toConfigOut(schema, record({ tag: "y" })).data, { k: 3, tag: "y" });
  });

  it("fills the default of an optional field the stored data lacks", () => {
    const optional = normalizeConfigSchema(Type.Object({ k: Type.Integer(), note: Type.Optional(Type.String({ default: "n" })) }));
    assert.deepEqual(toConfigOut(optional, record({ k: 1 })).data, { k: 1, note: "n" });
  });

  it("coerces a stored value of another type", () => {
    assert.deepEqual(toConfigOut(schema, record({ k: "7", tag: "y" })).data, { k: 7, tag: "y" });
  });

  it("does not change the stored record", () => {
    const stored = record({ tag: "y" });
    toConfigOut(schema, stored);
    assert.deepEqual(stored.data, { tag: "y" });
  });
});
