/** Timestamps on chapkit's wire: ISO 8601 UTC with milliseconds and Z. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nowIso, toIso } from "../../src/core/time.ts";

const ISO_MS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("nowIso", () => {
  it("is ISO 8601 UTC with milliseconds and Z", () => {
    assert.match(nowIso(), ISO_MS_Z);
  });

  it("is the current time", () => {
    const before = Date.now();
    const now = Date.parse(nowIso());
    assert.ok(now >= before && now <= Date.now());
  });
});

describe("toIso", () => {
  it("formats a Date and epoch milliseconds", () => {
    assert.equal(toIso(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))), "2026-01-02T03:04:05.678Z");
    assert.equal(toIso(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), "2026-01-02T03:04:05.006Z");
  });

  it("keeps a canonical timestamp as it is", () => {
    assert.equal(toIso("2026-01-02T03:04:05.678Z"), "2026-01-02T03:04:05.678Z");
  });

  it("adds milliseconds to a timestamp without them", () => {
    assert.equal(toIso("2026-01-02T03:04:05Z"), "2026-01-02T03:04:05.000Z");
  });

  it("reads a zone-less timestamp (as SQLite and Python Chapkit write it) as UTC", () => {
    assert.equal(toIso("2026-01-02T03:04:05"), "2026-01-02T03:04:05.000Z");
    assert.equal(toIso("2026-01-02 03:04:05"), "2026-01-02T03:04:05.000Z");
  });

  it("converts an offset to UTC", () => {
    assert.equal(toIso("2026-01-02T05:04:05.678+02:00"), "2026-01-02T03:04:05.678Z");
    assert.equal(toIso("2026-01-02 03:04:05.678+00"), "2026-01-02T03:04:05.678Z");
  });

  it("rounds microseconds down to milliseconds", () => {
    assert.equal(toIso("2025-10-11T17:31:00.482913Z"), "2025-10-11T17:31:00.482Z");
  });
});
