import type { EntityRecord } from "../core/entity.ts";
import { checkIfMatch, computeEtag, ifNoneMatchHits } from "../core/etag.ts";
import type { WriteCondition } from "../core/repository.ts";
import type { ResponseSet } from "./crud/operation.ts";

/**
 * Answers a JSON body with its strong `ETag`, or `304 Not Modified` when the
 * request's `If-None-Match` already holds it. The body is serialised once,
 * for the tag and the response alike.
 */
export function withEtag(request: Request, set: ResponseSet, body: unknown): Response | string {
  const json = JSON.stringify(body);
  const etag = computeEtag(json);
  set.headers.etag = etag;
  if (ifNoneMatchHits(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers: { etag } });
  }
  set.headers["content-type"] = "application/json";
  return json;
}

/** What {@link ifMatchCondition} reads: the stored row and its output (whose tag the client holds). */
export interface ConditionTarget<R extends EntityRecord> {
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
  checkIfMatch(header, computeEtag(JSON.stringify(await target.toOutput(record))), instance);
  return { expected: record };
}
