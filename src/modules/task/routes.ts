import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError, ValidationError } from "../../core/errors.ts";
import { parseUlid } from "../../core/ulid.ts";
import { requirePermission } from "../../http/auth-guard.ts";
import { type CrudPermissions, crudRouter } from "../../http/crud/crud-router.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { TaskManager } from "./manager.ts";
import { TaskExecuteResponseSchema } from "./schema.ts";

/** Options of {@link tasksRoutes}. */
export interface TasksRoutesOptions {
  /** Path prefix (default `/api/v1/tasks`). */
  prefix?: string;
  /** OpenAPI tags (default `["tasks"]`). */
  tags?: string[];
  /** Which generic CRUD routes exist; `$execute` always does. */
  permissions?: CrudPermissions;
}

const dictError = (loc: (string | number)[]): ValidationError =>
  new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);

/** The `params` of an optional `$execute` body (already parsed as JSON): nothing, or `{"params": {...}}`. */
function executeParams(body: unknown): unknown {
  if (body === undefined || body === null || body === "") return undefined;
  if (typeof body !== "object" || Array.isArray(body)) throw dictError(["body"]);
  const params = (body as { params?: unknown }).params;
  if (params === undefined || params === null) return undefined;
  if (typeof params !== "object" || Array.isArray(params)) throw dictError(["body", "params"]);
  return params;
}

const WRITES = new Set(["POST", "PUT", "PATCH"]);

/** Whether a write body (one task, or a bulk array) may leave a shell task behind. */
async function touchesShell(manager: TaskManager, body: unknown, id: string | undefined): Promise<boolean> {
  const items = Array.isArray(body) ? body : [body];
  for (const item of items) {
    const fields = item !== null && typeof item === "object" ? item as { id?: unknown; task_type?: unknown } : {};
    if (fields.task_type === "shell") return true;
    if (fields.task_type === "function") continue;
    const target = id ?? (typeof fields.id === "string" ? fields.id : undefined);
    const existing = target === undefined ? null : await manager.repository.findById(target).catch(() => null);
    if (existing ? existing.task_type === "shell" : fields.task_type === undefined) return true;
  }
  return false;
}

/**
 * The task routes: generic CRUD under `/api/v1/tasks` and
 * `POST {prefix}/{id}/$execute` → 202 `{job_id, message}`. Malformed ids
 * answer 400 `invalid-ulid`, unknown tasks 404, a service without jobs 400.
 * Writes that create or change a shell task need `tasks:shell` (with auth).
 */
export function tasksRoutes(manager: TaskManager, options: TasksRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/tasks";
  const tags = options.tags ?? ["tasks"];
  const crud = crudRouter({
    prefix,
    manager,
    tags,
    entityName: "task",
    ...(options.permissions ? { permissions: options.permissions } : {}),
  });
  return new Elysia({ name: `chapkit:tasks:${prefix}` })
    .onBeforeHandle(async ({ request, body, params }) => {
      const path = new URL(request.url).pathname;
      if (!WRITES.has(request.method) || path.endsWith("/$execute") || path.endsWith("/$bulk-delete")) return;
      const id = (params as Record<string, string | undefined> | undefined)?.entity_id;
      if (await touchesShell(manager, body, id)) requirePermission(request, "tasks:shell", path);
    })
    .use(crud)
    .post(`${prefix}/:entity_id/$execute`, async ({ params, body, set }) => {
      const taskParams = executeParams(body);
      const instance = `${prefix}/${params.entity_id}`;
      const id = parseUlid(params.entity_id, instance);
      try {
        const execution = await manager.execute(id, taskParams);
        set.status = 202;
        return execution;
      } catch (error) {
        if (error instanceof NotFoundError && error.instance === undefined) {
          throw new NotFoundError(error.message, { instance });
        }
        throw error;
      }
    }, {
      detail: routeDetail({
        summary: "Execute task",
        description: "Submits a job that runs the task and stores its outcome as a new root artifact. " +
          'Function tasks take an optional body `{"params": {...}}`, validated against the function ' +
          "(422 on mismatch); shell tasks take no body.",
        tags,
        response: TaskExecuteResponseSchema,
        status: 202,
      }),
    }) as unknown as AnyElysia;
}
