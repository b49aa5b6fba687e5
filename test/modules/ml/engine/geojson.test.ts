import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../../../../src/core/errors.ts";
import { validateFeatureCollection, withoutNullMembers } from "../../../../src/modules/ml/engine/geojson.ts";

const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
const valid = {
  type: "FeatureCollection",
  features: [
    { type: "Feature", id: "district-1", geometry: { type: "Polygon", coordinates: [square] }, properties: { n: 1 } },
    { type: "Feature", geometry: { type: "Point", coordinates: [10.5, 59.9, 12] }, properties: null },
    { type: "Feature", geometry: null, properties: {}, bbox: null },
  ],
};

function locsOf(value: unknown): (string | number)[][] {
  try {
    validateFeatureCollection(value);
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 422);
    return error.errors.map((e) => e.loc);
  }
  assert.fail("expected a ValidationError");
}

describe("GeoJSON validation", () => {
  test("accepts a valid FeatureCollection", () => {
    assert.equal(validateFeatureCollection(valid), valid);
  });

  test("requires the geometry and properties keys of a feature", () => {
    assert.deepEqual(locsOf({ type: "FeatureCollection", features: [{ type: "Feature" }] }), [
      ["body", "geo", "features", 0, "geometry"],
      ["body", "geo", "features", 0, "properties"],
    ]);
  });

  test("rejects a wrong collection type and non-array features", () => {
    assert.deepEqual(locsOf({ type: "Feature", features: {} }), [["body", "geo", "type"], ["body", "geo", "features"]]);
  });

  test("rejects positions with fewer than 2 or more than 3 numbers", () => {
    const geo = { type: "FeatureCollection", features: [{ type: "Feature", properties: null, geometry: { type: "Point", coordinates: [1] } }] };
    assert.deepEqual(locsOf(geo), [["body", "geo", "features", 0, "geometry", "coordinates"]]);
    geo.features[0]!.geometry.coordinates = [1, 2, 3, 4];
    assert.deepEqual(locsOf(geo), [["body", "geo", "features", 0, "geometry", "coordinates"]]);
  });

  test("rejects an unclosed linear ring", () => {
    const open = [[0, 0], [1, 0], [1, 1], [0, 1]];
    const geo = {
      type: "FeatureCollection",
      features: [{ type: "Feature", properties: {}, geometry: { type: "MultiPolygon", coordinates: [[square], [open]] } }],
    };
    assert.deepEqual(locsOf(geo), [["body", "geo", "features", 0, "geometry", "coordinates", 1, 0]]);
  });

  test("rejects unknown geometry types and non-numeric coordinates", () => {
    const geo = {
      type: "FeatureCollection",
      features: [
        { type: "Feature", properties: {}, geometry: { type: "Circle", coordinates: [0, 0] } },
        { type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: [[0, "a"], [1, 1]] } },
      ],
    };
    assert.deepEqual(locsOf(geo), [
      ["body", "geo", "features", 0, "geometry", "type"],
      ["body", "geo", "features", 1, "geometry", "coordinates", 0, 1],
    ]);
  });

  test("uses the given loc prefix", () => {
    assert.throws(() => validateFeatureCollection(null, ["geo"]), (e) => e instanceof ValidationError && e.errors[0]!.loc[0] === "geo");
  });

  test("drops null bbox and id members for geo.json", () => {
    const clean = withoutNullMembers(valid as never);
    assert.ok(!("bbox" in clean.features[2]!));
    assert.equal(clean.features[0]!.id, "district-1");
  });
});
