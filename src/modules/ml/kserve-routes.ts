import { type AnyElysia, Elysia } from "elysia";
import { ChapkitError } from "../../core/errors.ts";
import { ModelInputError } from "./engine/io-schema.ts";
import type { ServiceInfo } from "../../core/info.ts";
import { addRoute } from "../../http/_route.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import type { Readiness } from "../../http/readiness.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { Type } from "@sinclair/typebox";
import type { ModelRouter } from "../models/router.ts";
import { stickyKey } from "../models/sticky-key.ts";
import type { ModelVersion } from "../models/schema.ts";
import { framesFromTensors, readInputs, tensorsFromFrame, V2Error } from "./_v2-tensors.ts";
import { isLoadedEnsemble, type ModelServer } from "./model-server.ts";
import { requiredInputs } from "./model-io.ts";
import type { ColumnSpec } from "./engine/io-schema.ts";

/** What the KServe V2 routes serve from. */
export interface KServeDeps {
  server: ModelServer;
  router?: ModelRouter;
  info: ServiceInfo;
  readiness?: Readiness;
  /** Whether warm-up has finished (readiness waits for it). */
  warm: () => boolean;
}

interface Ctx {
  params: Record<string, string>;
  body: unknown;
  request: Request;
  set: { status?: number | string };
}

const AnyObject = Type.Object({}, { additionalProperties: true });

function v2Error(error: unknown, set: Ctx["set"], request: Request): { error: string } | Response {
  if (error instanceof ModelInputError) {
    // An RFC 9457 problem that V2 clients still read: `error` carries the detail.
    const body = { ...error.toProblem(new URL(request.url).pathname), error: error.message };
    return new Response(JSON.stringify(body), { status: 422, headers: { "content-type": "application/problem+json" } });
  }
  if (error instanceof V2Error) {
    set.status = error.status;
    return { error: error.message };
  }
  if (error instanceof ChapkitError) {
    set.status = error.status;
    return { error: error.message };
  }
  set.status = 500;
  return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

function reference(params: Record<string, string>): string {
  return params.version ? `${params.name}@${params.version}` : params.name!;
}

/**
 * KServe V2 Open Inference Protocol over the registry: `GET /v2` (server
 * metadata), `GET /v2/health/live|ready` (ready once warm-up has finished
 * and the instance is not draining), `GET /v2/models/{name}[/versions/{v}]`
 * (metadata with input/output tensor specs from the version's signature and
 * feature set, else the runner's columns),
 * `…/ready`, and `POST …/infer` with typed tensors (FP32, FP64, INT32,
 * INT64, BOOL, BYTES and the other integer types). Without a version the
 * model's route policy chooses it (the answer's `model_version` tells
 * which). Errors are `{"error": message}`; inputs that do not match the
 * chosen version's signature are a 422 problem that also carries `error`.
 */
export function kserveRoutes(deps: KServeDeps): AnyElysia {
  const app = new Elysia({ name: "chapkit:kserve-v2" });
  const tags = ["kserve-v2"];
  const doc = (summary: string, permission: string) => ({
    detail: withPermission(routeDetail({ summary, tags, response: AnyObject }), permission),
  });
  const { server } = deps;
  const floatType = server.floatType;

  addRoute(app, "GET", "/v2", () => ({
    name: deps.info.display_name,
    version: deps.info.version ?? "",
    extensions: ["model_repository_registry", "routing"],
  }), doc("KServe V2 server metadata", "public"));
  addRoute(app, "GET", "/v2/health/live", () => ({ live: true }), doc("KServe V2 liveness", "public"));
  addRoute(app, "GET", "/v2/health/ready", ({ set }: Ctx) => {
    const ready = deps.warm() && !deps.readiness?.draining;
    if (!ready) set.status = 503;
    return { ready };
  }, doc("KServe V2 readiness: warm-up done and not draining", "public"));

  const datatype = (spec: ColumnSpec): string =>
    ({ number: floatType, integer: "INT64", boolean: "BOOL", string: "BYTES", any: floatType })[spec.type ?? "number"];
  const metadata = async (version: ModelVersion): Promise<Record<string, unknown>> => {
    const versions = (await server.registry.versions(version.name, { status: "active" })).map((v) => v.version);
    // The version's own declaration when it has one (signature, feature set, ensemble), else the runner's columns.
    const loaded = await server.load(version).catch(() => null);
    const signature = loaded?.signature;
    const inputs: ColumnSpec[] = loaded && !isLoadedEnsemble(loaded) && (signature || loaded.features)
      ? requiredInputs(loaded)
      : signature?.inputs.slice() ?? (server.inputColumns ?? []).map((name) => ({ name }));
    const outputs: ColumnSpec[] = signature?.outputs?.slice() ??
      (loaded && isLoadedEnsemble(loaded) ? loaded.ensemble.outputs : server.outputColumns ?? ["sample_0"]).map((name) => ({ name }));
    return {
      name: version.name,
      versions,
      platform: server.platform,
      inputs: inputs.map((spec) => ({ name: spec.name, datatype: datatype(spec), shape: [-1] })),
      outputs: outputs.map((spec) => ({ name: spec.name, datatype: datatype(spec), shape: [-1] })),
      parameters: {
        version: version.version,
        aliases: version.aliases,
        status: version.status,
        ...(loaded && !isLoadedEnsemble(loaded) && loaded.features
          ? { feature_set: `${loaded.features.name}@${loaded.features.version}` }
          : {}),
        ...(loaded && isLoadedEnsemble(loaded)
          ? { ensemble: loaded.ensemble.method, members: loaded.ensemble.members.map((m) => `${m.name}@${m.version}`) }
          : {}),
        ...(await server.runtimeInfo()),
      },
    };
  };
  const withError = (handler: (ctx: Ctx) => Promise<unknown>) => async (ctx: Ctx): Promise<unknown> => {
    try {
      return await handler(ctx);
    } catch (error) {
      return v2Error(error, ctx.set, ctx.request);
    }
  };
  for (const base of ["/v2/models/:name", "/v2/models/:name/versions/:version"]) {
    addRoute(app, "GET", base, withError(async ({ params }) => metadata(await server.registry.resolve(reference(params)))),
      doc("KServe V2 model metadata", "models:read"));
    addRoute(app, "GET", `${base}/ready`, withError(async ({ params, set }) => {
      const version = await server.registry.resolve(reference(params));
      const ready = await server.load(version).then(() => true, () => false);
      if (!ready) set.status = 503;
      return { name: version.name, version: version.version, ready };
    }), doc("KServe V2 model readiness", "models:read"));
    addRoute(app, "POST", `${base}/infer`, withError(async ({ params, body, request }) => {
      const tensors = readInputs(body);
      const frame = framesFromTensors(tensors, server.inputColumns);
      const payload = body as { id?: unknown; outputs?: { name?: unknown }[]; parameters?: Record<string, unknown> };
      const policy = !params.version && deps.router ? await deps.router.policy(params.name!) : null;
      const key = stickyKey(policy?.sticky_by ?? null, request, payload as Record<string, unknown>);
      const served = await server.serve(reference(params), frame, { key, signal: request.signal });
      let outputs = tensorsFromFrame(served.frame, frame.columns, floatType);
      if (Array.isArray(payload.outputs) && payload.outputs.length > 0) {
        const wanted = payload.outputs.map((o) => String(o?.name ?? ""));
        const unknown = wanted.filter((name) => !outputs.some((o) => o.name === name));
        if (unknown.length > 0) throw new V2Error(`unknown output ${unknown.map((u) => JSON.stringify(u)).join(", ")}`);
        outputs = outputs.filter((o) => wanted.includes(o.name));
      }
      return {
        model_name: served.version.name,
        model_version: served.version.version,
        ...(payload.id !== undefined ? { id: String(payload.id) } : {}),
        parameters: { route_arm: served.arm },
        outputs,
      };
    }), doc("KServe V2 inference", "ml:predict"));
  }
  return app as unknown as AnyElysia;
}
