import type { EntityRecord } from "../core/entity.ts";
import { checkIfMatch, computeEtag, ifNoneMatchHits } from "../core/etag.ts";
import type { WriteCondition } from "../core/repository.ts";
import { rowVersionOf } from "../db/repository.ts";
import type { ResponseSet } from "./crud/operation.ts";

/**
 * Whether `If-Modified-Since` says the client's copy is current: the entity
 * changed at or before the given HTTP-date (compared in whole seconds, the
 * date's precision). An unparseable date is ignored, as RFC 9110 §13.1.3 asks.
 */
function notModifiedSince(header: string | null, lastModifiedMs: number): boolean {
  if (header === null) return false;
  const since = Date.parse(header);
  return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
}

/**
 * Answers a JSON body with its strong `ETag`, or `304 Not Modified` when the
 * request's `If-None-Match` already holds it. The body is serialised once,
 * for the tag and the response alike. With `updatedAt` (an entity's
 * `updated_at`) it adds `Last-Modified` and answers `If-Modified-Since` with
 * 304 too, unless the request has `If-None-Match`, which then decides alone.
 * The date has one-second precision, so two changes within a second are told
 * apart by the ETag only. `tag` (see {@link rowEtag}) replaces the digest of the body.
 */
export function withEtag(request: Request, set: ResponseSet, body: unknown, updatedAt?: string, tag?: string): Response | string {
  const json = JSON.stringify(body);
  const etag = tag ?? computeEtag(json);
  set.headers.etag = etag;
  const changedMs = updatedAt === undefined ? NaN : Date.parse(updatedAt);
  const headers: Record<string, string> = { etag };
  if (Number.isFinite(changedMs)) headers["last-modified"] = set.headers["last-modified"] = new Date(changedMs).toUTCString();
  const ifNoneMatch = request.headers.get("if-none-match");
  const fresh = ifNoneMatch === null
    ? Number.isFinite(changedMs) && notModifiedSince(request.headers.get("if-modified-since"), changedMs)
    : ifNoneMatchHits(ifNoneMatch, etag);
  if (fresh) return new Response(null, { status: 304, headers });
  set.headers["content-type"] = "application/json";
  return json;
}

const fingerprints = new WeakMap<object, string>();

/** A digest of an output schema, taken once: part of every row tag, so a changed schema (new defaults, fields) changes the tags. */
function fingerprintOf(schema: object): string {
  let fingerprint = fingerprints.get(schema);
  if (fingerprint === undefined) fingerprints.set(schema, fingerprint = computeEtag(JSON.stringify(schema)).slice(1, -1));
  return fingerprint;
}

/**
 * The strong ETag of a stored row's representation without reading its body:
 * its id, its internal row version (which every write moves on) and a digest
 * of the output schema, the same on every instance. Undefined when the row
 * carries no version (a table without the version column, a row not read from
 * the store): the tag is then the digest of the body.
 */
export function rowEtag(record: EntityRecord, output: object | undefined): string | undefined {
  const version = rowVersionOf(record);
  return version === undefined || output === undefined ? undefined : `"${record.id}.${version}.${fingerprintOf(output)}"`;
}

/** What {@link ifMatchCondition} reads: the stored row and its output (whose tag the client holds). */
export interface ConditionTarget<R extends EntityRecord> {
  /** The output schema, when the representation's tag is derived from the row's version (see {@link rowEtag}). */
  readonly output?: object;
  /** The stored row. @throws {NotFoundError} */
  require(id: string): Promise<R>;
  /** The row as answered. */
  toOutput(record: R): Promise<unknown>;
}

/**
 * Checks `If-Match` on a write and returns the condition the write must
 * carry, so the store tests it again inside the `UPDATE`/`DELETE` itself
 * (two concurrent writers holding the same tag: one succeeds, one gets 412).
 * Without the header nothing is read and there is no condition.
 */
export async function ifMatchCondition<R extends EntityRecord>(
  request: Request,
  target: ConditionTarget<R>,
  id: string,
  instance?: string,
): Promise<WriteCondition | undefined> {
  const header = request.headers.get("if-match");
  if (header === null) return undefined;
  const record = await target.require(id);
  const tag = rowEtag(record, target.output) ?? computeEtag(JSON.stringify(await target.toOutput(record)));
  checkIfMatch(header, tag, instance);
  return { expected: record };
}
