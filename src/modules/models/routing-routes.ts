import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError } from "../../core/errors.ts";
import { addRoute } from "../../http/_route.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { RoutePolicySchema } from "./policy.ts";
import type { ModelRouter } from "./router.ts";
import { MODELS_READ, MODELS_WRITE, type ModelRoutesOptions } from "./routes.ts";

interface Ctx {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
}

const AnyObject = Type.Object({}, { additionalProperties: true });

/**
 * The route-policy routes: `GET|PUT|DELETE {prefix}/{name}/route` (the
 * policy: A/B split, sticky key, canary, shadow; applied without restart),
 * `POST {prefix}/{name}/route/$evaluate` (advance or roll back the canary
 * now) and `GET {prefix}/{name}/route/$report?since=` (champion/challenger).
 */
export function modelRoutingRoutes(router: ModelRouter, options: ModelRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/models";
  const tags = options.tags ?? ["models"];
  const app = new Elysia({ name: `chapkit:model-routing:${prefix}` });
  const doc = (summary: string, permission: string, body?: typeof RoutePolicySchema) => ({
    detail: withPermission(routeDetail({ summary, tags, response: AnyObject, ...(body ? { body } : {}) }), permission),
  });
  addRoute(app, "GET", `${prefix}/:name/route`, (async ({ params }: Ctx) => {
    const policy = await router.policy(params.name!);
    if (!policy) throw new NotFoundError(`Model ${params.name} has no route policy`);
    return policy;
  }) as never, doc("A model's route policy", MODELS_READ));
  addRoute(app, "PUT", `${prefix}/:name/route`, (({ params, body }: Ctx) => router.setPolicy(params.name!, body)) as never,
    doc("Set a model's route policy (A/B, canary, shadow)", MODELS_WRITE, RoutePolicySchema));
  addRoute(app, "DELETE", `${prefix}/:name/route`, (async ({ params, set }: Ctx & { set: { status?: number } }) => {
    await router.deletePolicy(params.name!);
    set.status = 204;
    return undefined;
  }) as never, doc("Remove a model's route policy", MODELS_WRITE));
  addRoute(app, "POST", `${prefix}/:name/route/$evaluate`, (async ({ params }: Ctx) => {
    await router.evaluate(params.name!);
    const policy = await router.policy(params.name!);
    if (!policy) throw new NotFoundError(`Model ${params.name} has no route policy`);
    return policy;
  }) as never, doc("Evaluate the canary now (advance, complete or roll back)", MODELS_WRITE));
  addRoute(app, "GET", `${prefix}/:name/route/$report`, (({ params, query }: Ctx) => router.report(params.name!, query.since)) as never,
    doc("Champion/challenger report: served figures per version, shadow pairs compared", MODELS_READ));
  return app as unknown as AnyElysia;
}
