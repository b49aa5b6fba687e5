import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError } from "../../core/errors.ts";
import { addRoute } from "../../http/_route.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { Type } from "@sinclair/typebox";
import type { FeatureCatalog, StoredFeatureSet } from "./engine/features.ts";

const AnyValue = Type.Unknown();

/**
 * `GET {prefix}/feature-sets` (every declared set, as a model trained now
 * would store it) and `GET {prefix}/feature-sets/{reference}` (`name` for
 * its highest version, or `name@2`).
 */
export function featureSetRoutes(catalog: FeatureCatalog, options: { prefix?: string; tags?: string[] } = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/ml";
  const app = new Elysia({ name: `chapkit:ml-feature-sets:${prefix}` });
  const doc = (summary: string) => ({
    detail: withPermission(routeDetail({ summary, tags: options.tags ?? ["ml"], response: AnyValue }), "ml:read"),
  });
  addRoute(app, "GET", `${prefix}/feature-sets`, (): StoredFeatureSet[] =>
    catalog.list().map((set) => catalog.freeze(`${set.name}@${set.version}`)), doc("List the feature sets"));
  addRoute(app, "GET", `${prefix}/feature-sets/:reference`, ({ params }: { params: Record<string, string> }): StoredFeatureSet => {
    const reference = decodeURIComponent(params.reference!);
    if (!catalog.find(reference)) throw new NotFoundError(`Feature set ${reference} not found`);
    return catalog.freeze(reference);
  }, doc("One feature set (name for its highest version, or name@version)"));
  return app as unknown as AnyElysia;
}
