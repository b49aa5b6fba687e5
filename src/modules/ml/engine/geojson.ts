/**
 * GeoJSON FeatureCollection validation for the `geo` field of `$train` and
 * `$predict` (RFC 7946 as geojson-pydantic enforces it).
 *
 * @module
 */
import { type FieldError, ValidationError } from "../../../core/errors.ts";

/** A position: longitude, latitude and an optional altitude. */
export type Position = [number, number] | [number, number, number];

/** A GeoJSON geometry. */
export type Geometry =
  | { type: "Point"; coordinates: Position; bbox?: number[] }
  | { type: "MultiPoint" | "LineString"; coordinates: Position[]; bbox?: number[] }
  | { type: "MultiLineString" | "Polygon"; coordinates: Position[][]; bbox?: number[] }
  | { type: "MultiPolygon"; coordinates: Position[][][]; bbox?: number[] }
  | { type: "GeometryCollection"; geometries: Geometry[]; bbox?: number[] };

/** A GeoJSON Feature: `geometry` and `properties` are required keys (each may be null). */
export interface Feature {
  /** Always `Feature`. */
  type: "Feature";
  /** The feature's geometry, or null. */
  geometry: Geometry | null;
  /** The feature's properties, or null. */
  properties: Record<string, unknown> | null;
  /** Optional identifier. */
  id?: string | number;
  /** Optional bounding box (4 or 6 numbers). */
  bbox?: number[];
  /** Foreign members are kept. */
  [extra: string]: unknown;
}

/** A GeoJSON FeatureCollection. */
export interface FeatureCollection {
  /** Always `FeatureCollection`. */
  type: "FeatureCollection";
  /** In input order, as a model receives them in its `geo` input. */
  features: Feature[];
  /** Optional bounding box (4 or 6 numbers). */
  bbox?: number[];
  /** Foreign members are kept. */
  [extra: string]: unknown;
}

/** A location path inside a request, as in validation errors. */
export type Loc = (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks that `value` is a GeoJSON FeatureCollection: `type`, `features`,
 * each Feature's `type`, required `geometry` and `properties` keys, optional
 * `id` (string or integer) and `bbox`, geometry types and coordinates
 * (positions of 2–3 numbers, LineStrings of ≥ 2 positions, closed linear
 * rings of ≥ 4 positions).
 *
 * @param loc where the value came from, e.g. `["body", "geo"]` (the default).
 * @throws {ValidationError} listing every violation with its `loc`.
 */
export function validateFeatureCollection(value: unknown, loc: Loc = ["body", "geo"]): FeatureCollection {
  const errors: FieldError[] = [];
  if (!isObject(value)) {
    errors.push({ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" });
  } else {
    literal(value, "type", "FeatureCollection", loc, errors);
    optionalBbox(value, loc, errors);
    if (!("features" in value)) missing([...loc, "features"], errors);
    else if (!Array.isArray(value.features)) listType([...loc, "features"], errors);
    else value.features.forEach((f, i) => checkFeature(f, [...loc, "features", i], errors));
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return value as FeatureCollection;
}

/**
 * A copy of a collection without `bbox`/`id` members that are null, as
 * Python Chapkit writes `geo.json` for shell scripts.
 */
export function withoutNullMembers(collection: FeatureCollection): FeatureCollection {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!isObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if ((key === "bbox" || key === "id") && member === null) continue;
      out[key] = key === "properties" ? member : strip(member);
    }
    return out;
  };
  return strip(collection) as FeatureCollection;
}

function missing(loc: Loc, errors: FieldError[]): void {
  errors.push({ loc, msg: "Field required", type: "missing" });
}

function listType(loc: Loc, errors: FieldError[]): void {
  errors.push({ loc, msg: "Input should be a valid list", type: "list_type" });
}

function literal(obj: Record<string, unknown>, key: string, expected: string, loc: Loc, errors: FieldError[]): void {
  if (!(key in obj)) missing([...loc, key], errors);
  else if (obj[key] !== expected) {
    errors.push({ loc: [...loc, key], msg: `Input should be '${expected}'`, type: "literal_error" });
  }
}

function optionalBbox(obj: Record<string, unknown>, loc: Loc, errors: FieldError[]): void {
  const bbox = obj.bbox;
  if (bbox === undefined || bbox === null) return;
  if (!Array.isArray(bbox) || (bbox.length !== 4 && bbox.length !== 6) || !bbox.every(isNumber)) {
    errors.push({ loc: [...loc, "bbox"], msg: "bbox must be an array of 4 or 6 numbers", type: "value_error" });
  }
}

function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function checkFeature(feature: unknown, loc: Loc, errors: FieldError[]): void {
  if (!isObject(feature)) {
    errors.push({ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" });
    return;
  }
  literal(feature, "type", "Feature", loc, errors);
  optionalBbox(feature, loc, errors);
  if (!("geometry" in feature)) missing([...loc, "geometry"], errors);
  else if (feature.geometry !== null) checkGeometry(feature.geometry, [...loc, "geometry"], errors);
  if (!("properties" in feature)) missing([...loc, "properties"], errors);
  else if (feature.properties !== null && !isObject(feature.properties)) {
    errors.push({ loc: [...loc, "properties"], msg: "Input should be a valid dictionary", type: "dict_type" });
  }
  const id = feature.id;
  if (id !== undefined && id !== null && typeof id !== "string" && !Number.isInteger(id)) {
    errors.push({ loc: [...loc, "id"], msg: "Input should be a valid string or integer", type: "union_type" });
  }
}

const COORDINATE_DEPTH: Record<string, number> = {
  Point: 0,
  MultiPoint: 1,
  LineString: 1,
  MultiLineString: 2,
  Polygon: 2,
  MultiPolygon: 3,
};

function checkGeometry(geometry: unknown, loc: Loc, errors: FieldError[]): void {
  if (!isObject(geometry)) {
    errors.push({ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" });
    return;
  }
  const type = geometry.type;
  optionalBbox(geometry, loc, errors);
  if (type === "GeometryCollection") {
    if (!("geometries" in geometry)) missing([...loc, "geometries"], errors);
    else if (!Array.isArray(geometry.geometries)) listType([...loc, "geometries"], errors);
    else geometry.geometries.forEach((g, i) => checkGeometry(g, [...loc, "geometries", i], errors));
    return;
  }
  if (typeof type !== "string" || !(type in COORDINATE_DEPTH)) {
    errors.push({
      loc: [...loc, "type"],
      msg: "Input should be one of 'Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', " +
        "'MultiPolygon' or 'GeometryCollection'",
      type: type === undefined ? "missing" : "union_tag_invalid",
    });
    return;
  }
  if (!("coordinates" in geometry)) {
    missing([...loc, "coordinates"], errors);
    return;
  }
  const at = [...loc, "coordinates"];
  const coordinates = geometry.coordinates;
  switch (type) {
    case "Point":
      return position(coordinates, at, errors);
    case "MultiPoint":
      return each(coordinates, at, errors, 0, position);
    case "LineString":
      return lineString(coordinates, at, errors);
    case "MultiLineString":
      return each(coordinates, at, errors, 0, lineString);
    case "Polygon":
      return each(coordinates, at, errors, 0, linearRing);
    default:
      return each(coordinates, at, errors, 0, (p, l, e) => each(p, l, e, 0, linearRing));
  }
}

type Check = (value: unknown, loc: Loc, errors: FieldError[]) => void;

function each(value: unknown, loc: Loc, errors: FieldError[], minLength: number, check: Check): void {
  if (!Array.isArray(value)) return listType(loc, errors);
  if (value.length < minLength) {
    errors.push({ loc, msg: `List should have at least ${minLength} items after validation`, type: "too_short" });
    return;
  }
  value.forEach((item, i) => check(item, [...loc, i], errors));
}

function position(value: unknown, loc: Loc, errors: FieldError[]): void {
  if (!Array.isArray(value)) return listType(loc, errors);
  if (value.length < 2 || value.length > 3) {
    errors.push({ loc, msg: "A position must have 2 or 3 numbers", type: "value_error" });
    return;
  }
  value.forEach((n, i) => {
    if (!isNumber(n)) errors.push({ loc: [...loc, i], msg: "Input should be a valid number", type: "float_type" });
  });
}

function lineString(value: unknown, loc: Loc, errors: FieldError[]): void {
  each(value, loc, errors, 2, position);
}

function linearRing(value: unknown, loc: Loc, errors: FieldError[]): void {
  const before = errors.length;
  each(value, loc, errors, 4, position);
  if (errors.length !== before || !Array.isArray(value)) return;
  const first = value[0] as number[];
  const last = value[value.length - 1] as number[];
  if (first.length !== last.length || first.some((n, i) => n !== last[i])) {
    errors.push({ loc, msg: "All linear rings have the same start and end coordinates", type: "value_error" });
  }
}
