import { type Static, type TObject, Type } from "@sinclair/typebox";
import type { EntityRecord, TableDefinition } from "../core/entity.ts";
import { ChapkitError, type FieldError, NotFoundError, ValidationError } from "../core/errors.ts";
import { parseFilter } from "../core/query/filter-parse.ts";
import type { Manager } from "../core/manager.ts";
import type { Filter } from "../core/query/model.ts";
import { isUlid } from "../core/ulid.ts";
import type { Operation } from "./crud/operation.ts";
import { mergedBody } from "./merge-patch-route.ts";

interface Failure {
  index: number;
  error: unknown;
}

function asItemErrors(failure: Failure, loc: (string | number)[]): FieldError[] {
  const { error } = failure;
  if (error instanceof ValidationError) return error.errors;
  const type = error instanceof ChapkitError ? error.type.replace(/^urn:chapkit:error:/, "").replace(/-/g, "_") : "internal";
  return [{ loc, msg: error instanceof Error ? error.message : String(error), type }];
}

/** One problem for a failed bulk request: the first failure's status and type, every failing item in `errors`. */
function bulkFailure(failures: Failure[], loc: (index: number) => (string | number)[]): Error {
  const first = failures[0]!.error;
  if (!(first instanceof ChapkitError)) return first as Error;
  const errors = failures.flatMap((failure) => asItemErrors(failure, loc(failure.index)));
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more failing items)` : "";
  return new ChapkitError(`Item ${failures[0]!.index}: ${first.message}${more}; nothing was changed`, first, {
    extensions: { errors },
  });
}

function array(body: unknown, loc: string[]): unknown[] {
  if (!Array.isArray(body)) throw new ValidationError([{ loc, msg: "Input should be a valid list", type: "list_type" }]);
  return body;
}

/**
 * The bulk operations of a CRUD collection, each one transaction (all or
 * nothing): `POST $bulk-create` (array of create bodies, inserted in
 * batches), `PATCH $bulk-update` (array of JSON Merge Patches with `id`) and
 * `POST $bulk-delete` (`{ids}` or `{filter}`, answering `{deleted}`).
 */
export function bulkOperations<R extends EntityRecord, I extends TObject, O extends TObject>(
  manager: Manager<R, I, O>,
  table: TableDefinition | undefined,
): Operation[] {
  const outputs = Type.Array(manager.output);
  const ops: Operation[] = [
    {
      name: "$bulk-create",
      method: "POST",
      summary: "Create many",
      description: "Creates every item of the array in one transaction; any failure creates nothing (422 lists each failing item).",
      body: Type.Array(Type.Unknown(), { description: "Create bodies" }),
      response: outputs,
      status: 201,
      handler: ({ body }) => manager.createMany(array(body, ["body"])),
    },
    {
      name: "$bulk-update",
      method: "PATCH",
      summary: "Update many",
      description: "Applies a JSON Merge Patch to each item's `id` in one transaction; any failure changes nothing.",
      body: Type.Array(Type.Unknown(), { description: "JSON Merge Patches, each with the `id` it applies to" }),
      response: outputs,
      handler: ({ body }) => bulkUpdate(manager, array(body, ["body"])),
    },
    {
      name: "$bulk-delete",
      method: "POST",
      summary: "Delete many",
      description: "Deletes the given `ids`, or every row matching the `filter` expression, in one transaction.",
      body: Type.Unknown({ description: "`{\"ids\": [ULID, …]}` or `{\"filter\": \"expression\"}`" }),
      response: Type.Object({ deleted: Type.Integer() }),
      handler: ({ body }) => bulkDelete(manager, table, body),
    },
  ];
  return ops;
}

async function bulkUpdate<R extends EntityRecord, I extends TObject, O extends TObject>(
  manager: Manager<R, I, O>,
  items: unknown[],
): Promise<Static<O>[]> {
  return manager.repository.transaction(async () => {
    const failures: Failure[] = [];
    const bodies: [string, Record<string, unknown>][] = [];
    for (const [index, item] of items.entries()) {
      try {
        const id = (item as { id?: unknown } | null)?.id;
        if (typeof id !== "string" || !isUlid(id)) {
          throw new ValidationError([{ loc: ["body", index, "id"], msg: "Input should be a valid ULID", type: "ulid_format" }]);
        }
        const { id: _id, ...patch } = item as Record<string, unknown>;
        const body = mergedBody(await manager.get(id), patch, ["body", index]);
        manager.parse(body, ["body", index]);
        bodies.push([id, body]);
      } catch (error) {
        failures.push({ index, error });
      }
    }
    if (failures.length > 0) throw bulkFailure(failures, (index) => ["body", index]);
    const out: Static<O>[] = [];
    for (const [index, [id, body]] of bodies.entries()) {
      try {
        out.push(await manager.update(id, body));
      } catch (error) {
        throw bulkFailure([{ index, error }], (i) => ["body", i]);
      }
    }
    return out;
  });
}

async function bulkDelete<R extends EntityRecord, I extends TObject, O extends TObject>(
  manager: Manager<R, I, O>,
  table: TableDefinition | undefined,
  raw: unknown,
): Promise<{ deleted: number }> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError([{ loc: ["body"], msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
  }
  const body = raw as { ids?: unknown; filter?: unknown };
  const hasIds = body.ids !== undefined;
  if (hasIds === (body.filter !== undefined)) {
    throw new ValidationError([{ loc: ["body"], msg: "Give exactly one of ids or filter", type: "value_error" }]);
  }
  let filter: Filter;
  if (hasIds) {
    const ids = array(body.ids, ["body", "ids"]);
    const errors: FieldError[] = [];
    ids.forEach((id, index) => {
      if (typeof id !== "string" || !isUlid(id)) errors.push({ loc: ["body", "ids", index], msg: "Input should be a valid ULID", type: "ulid_format" });
    });
    if (errors.length > 0) throw new ValidationError(errors);
    filter = { kind: "compare", field: "id", op: "in", value: ids as string[] };
  } else {
    if (typeof body.filter !== "string") throw new ValidationError([{ loc: ["body", "filter"], msg: "Input should be a valid string", type: "string_type" }]);
    filter = parseFilter(body.filter, table ? { table } : {});
  }
  return manager.repository.transaction(async () => {
    const rows = await manager.repository.findMany({ filter });
    if (hasIds) {
      const found = new Set(rows.map((row) => row.id));
      const missing = (body.ids as string[]).map((id, index) => ({ id, index })).filter(({ id }) => !found.has(id));
      if (missing.length > 0) {
        throw bulkFailure(missing.map(({ id, index }) => ({ index, error: new NotFoundError(`Entity with id ${id} not found`) })), (i) => ["body", "ids", i]);
      }
    }
    for (const row of rows) {
      // A delete hook may already have removed this row with its parent.
      if (await manager.repository.exists(row.id)) await manager.delete(row.id);
    }
    return { deleted: rows.length };
  });
}
