import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError, ValidationError } from "../../core/errors.ts";
import { validateValue } from "../../core/validation.ts";
import { addRoute } from "../../http/_route.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { EtlManager } from "./manager.ts";
import { EtlPipelineInSchema, EtlPipelineReplaceSchema, EtlPipelineSchema, EtlRunSchema, type EtlPipelineSpec, isPipelineName } from "./schema.ts";

/** The permission every ETL route needs under auth. */
export const ETL_PERMISSION = "etl:admin";

/** Options of {@link etlRoutes}. */
export interface EtlRoutesOptions {
  /** Path prefix (default `/api/v1/etl`). */
  prefix?: string;
}

type Params = { params: Record<string, string> };
type Context = Params & { body?: unknown; query: Record<string, string | undefined>; set: { status?: number | string } };

function named(raw: string, instance: string): string {
  if (!isPipelineName(raw)) throw new NotFoundError("ETL pipeline not found", { instance });
  return raw;
}

function positive(raw: string | undefined, name: string, fallback: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError([{ loc: ["query", name], msg: `Input should be an integer from 1 to ${max}`, type: "int_parsing" }]);
  }
  return value;
}

const RunPageSchema = Type.Object({
  items: Type.Array(EtlRunSchema),
  total: Type.Integer(),
  page: Type.Integer(),
  size: Type.Integer(),
  pages: Type.Integer(),
}, { title: "EtlRunPage" });

/**
 * `/api/v1/etl`: list, create (201; 409 when the name is taken), get,
 * replace (`PUT`, creating when missing) and delete (204) pipelines;
 * `POST {prefix}/{name}/$run` (202, `?force=true` reads an unchanged source
 * too), `GET {prefix}/{name}/runs` (paged, newest first) and
 * `GET {prefix}/{name}/runs/{id}`. Admin-only (`etl:admin`) under auth.
 */
export function etlRoutes(manager: EtlManager, options: EtlRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/etl";
  const tags = ["etl"];
  const detail = (doc: Omit<Parameters<typeof routeDetail>[0], "tags">): Record<string, unknown> => withPermission(routeDetail({ ...doc, tags }), ETL_PERMISSION);
  const app = new Elysia({ name: `chapkit:etl:${prefix}` });
  addRoute(app, "GET", prefix, () => manager.list(), {
    detail: detail({ summary: "List ETL pipelines", response: Type.Array(EtlPipelineSchema) }),
  });
  addRoute(app, "POST", prefix, async ({ body }: Context) => {
    const spec = validateValue<EtlPipelineSpec>(EtlPipelineInSchema, body ?? undefined);
    const view = await manager.create(spec);
    return new Response(JSON.stringify(view), { status: 201, headers: { "content-type": "application/json", location: `${prefix}/${view.name}` } });
  }, {
    detail: detail({
      summary: "Create an ETL pipeline",
      description: "422 names what is wrong: an unknown transform (listing the registered ones), an unknown collection, a bad cron, a source that is not a URL or an absolute path.",
      body: EtlPipelineInSchema,
      response: EtlPipelineSchema,
      status: 201,
    }),
  });
  addRoute(app, "GET", `${prefix}/:name`, ({ params }: Params) => manager.get(named(params.name!, `${prefix}/${params.name}`)), {
    detail: detail({ summary: "Get an ETL pipeline", response: EtlPipelineSchema }),
  });
  addRoute(app, "PUT", `${prefix}/:name`, async ({ params, body, set }: Context) => {
    const name = named(params.name!, `${prefix}/${params.name}`);
    const checked = validateValue<Omit<EtlPipelineSpec, "name">>(EtlPipelineReplaceSchema, body ?? undefined);
    const { view, created } = await manager.put({ ...checked, name });
    if (created) set.status = 201;
    return view;
  }, {
    detail: detail({ summary: "Create or replace an ETL pipeline", body: EtlPipelineReplaceSchema, response: EtlPipelineSchema }),
  });
  addRoute(app, "DELETE", `${prefix}/:name`, async ({ params }: Params) => {
    await manager.delete(named(params.name!, `${prefix}/${params.name}`));
    return new Response(null, { status: 204 });
  }, {
    detail: detail({ summary: "Delete an ETL pipeline", description: "Its schedule goes; its runs stay.", status: 204 }),
  });
  addRoute(app, "POST", `${prefix}/:name/$run`, async ({ params, query, set }: Context) => {
    const name = named(params.name!, `${prefix}/${params.name}`);
    const force = query.force === "true" || query.force === "1";
    set.status = 202;
    return await manager.run(name, { force });
  }, {
    detail: detail({
      summary: "Run an ETL pipeline now",
      description: "Enqueues a run (202); while one is pending or running, answers that one. `?force=true` loads the source even when it has not changed.",
      query: Type.Object({ force: Type.Optional(Type.Boolean()) }),
      response: EtlRunSchema,
      status: 202,
    }),
  });
  addRoute(app, "GET", `${prefix}/:name/runs`, ({ params, query }: Context) => {
    const name = named(params.name!, `${prefix}/${params.name}`);
    return manager.runs(name, positive(query.page, "page", 1, 1_000_000), positive(query.size, "size", 50, 1000));
  }, {
    detail: detail({
      summary: "List an ETL pipeline's runs",
      description: "Newest first, paged (`page`, `size` up to 1000; default 50): status, row counts, the first refused rows and the source's fingerprint.",
      query: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1 })), size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }),
      response: RunPageSchema,
    }),
  });
  addRoute(app, "GET", `${prefix}/:name/runs/:id`, ({ params }: Params) => manager.getRun(named(params.name!, `${prefix}/${params.name}`), params.id!), {
    detail: detail({ summary: "Get an ETL run", response: EtlRunSchema }),
  });
  return app as unknown as AnyElysia;
}
