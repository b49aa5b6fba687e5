import { ValidationError } from "../core/errors.ts";
import { applyMergePatch } from "../core/merge-patch.ts";
import type { WriteCondition } from "../core/repository.ts";

/** The part of a manager a merge patch needs. */
export interface PatchTarget {
  /** The current output of the entity. @throws {NotFoundError} */
  get(id: string): Promise<unknown>;
  /** Replaces the entity with a full body (PUT semantics), under a write condition when given. */
  update(id: string, body: unknown, options?: { condition?: WriteCondition }): Promise<unknown>;
}

/**
 * The full body a JSON Merge Patch (RFC 7396) turns the current output
 * into: nested objects merge, `null` removes a nested key and clears a
 * top-level field, timestamps are left to the store.
 */
export function mergedBody(current: unknown, patch: unknown, loc: (string | number)[] = ["body"]): Record<string, unknown> {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    throw new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
  }
  const merged = applyMergePatch(current, patch) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) if (value === null) merged[key] = null;
  delete merged.created_at;
  delete merged.updated_at;
  merged.id = (current as { id?: unknown }).id;
  return merged;
}

/** Applies a JSON Merge Patch to an entity and saves it with PUT semantics; returns the new output. */
export async function patchEntity(target: PatchTarget, id: string, patch: unknown, condition?: WriteCondition): Promise<unknown> {
  return target.update(id, mergedBody(await target.get(id), patch), condition ? { condition } : {});
}
