import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { nowIso } from "../core/time.ts";
import type { Driver } from "../db/driver.ts";
import { hostName, platformName, runtimeName, runtimeVersion, timeZoneName } from "../runtime/runtime.ts";
import { addRoute } from "./_route.ts";
import type { SlowQueryLog } from "../observability/slow-queries.ts";
import type { Readiness } from "./readiness.ts";
import { routeDetail } from "./route-doc.ts";


const IndexAdviceList = Type.Object({
  items: Type.Array(Type.Object({
    table: Type.String(),
    column: Type.String(),
    use: Type.Union([Type.Literal("filter"), Type.Literal("sort")]),
    seen: Type.Integer(),
    create: Type.String(),
  })),
}, {
  examples: [{ items: [{ table: "notes", column: "stars", use: "filter", seen: 12, create: "CREATE INDEX notes_stars_idx ON notes (stars)" }] }],
});
/** What `GET /api/v1/system` answers. */
export interface SystemInfo {
  current_time: string;
  timezone: string;
  /** The runtime version, under the key Python clients read. */
  python_version: string;
  platform: string;
  hostname: string;
  runtime: string;
  runtime_version: string;
}

/** JSON schema of {@link SystemInfo}. */
export const SystemInfoSchema = Type.Object({
  current_time: Type.String({ format: "date-time" }),
  timezone: Type.String(),
  python_version: Type.String(),
  platform: Type.String(),
  hostname: Type.String(),
  runtime: Type.String(),
  runtime_version: Type.String(),
}, { title: "SystemInfo" });

/** The current system facts. */
export function systemInfo(): SystemInfo {
  const version = runtimeVersion();
  return {
    current_time: nowIso(),
    timezone: timeZoneName(),
    python_version: version,
    platform: platformName(),
    hostname: hostName(),
    runtime: runtimeName(),
    runtime_version: version,
  };
}

/** Options of {@link systemRoutes}. */
export interface SystemRoutesOptions {
  /** Path (default `/api/v1/system`). */
  prefix?: string;
  /** OpenAPI tags (default `["Service"]`). */
  tags?: string[];
  /** Serve `GET {prefix}/schema.svg` (an ER diagram of `db`'s tables). */
  schemaDiagram?: boolean;
  /** The store the diagram draws. */
  db?: Driver;
  /** The instance's readiness; with it, `POST {prefix}/$drain` starts draining. */
  readiness?: Readiness;
  /** The slow-query log (`withMonitoring()`); with it and `db`, `GET {prefix}/$index-advice` answers index advice. */
  slowQueries?: SlowQueryLog;
}

/**
 * `GET /api/v1/system`: time, time zone, runtime, platform and host name;
 * with `schemaDiagram`, `GET /api/v1/system/schema.svg`; with a readiness,
 * `POST /api/v1/system/$drain` (202) puts the instance in draining mode:
 * every health path answers 503, in-flight requests and jobs finish, then a
 * served process exits.
 */
export function systemRoutes(options: SystemRoutesOptions = {}): AnyElysia {
  const app = new Elysia();
  const prefix = options.prefix ?? "/api/v1/system";
  addRoute(app, "GET", prefix, () => systemInfo(), {
    detail: routeDetail({ summary: "System information", tags: options.tags ?? ["Service"], response: SystemInfoSchema }),
  });
  const db = options.db;
  if (options.schemaDiagram && db) {
    addRoute(app, "GET", `${prefix}/schema.svg`, async () => {
      // The introspection and drawing code loads with the first diagram, not at start-up.
      const [{ describeSchema }, { svgDiagram }] = await Promise.all([import("../db/introspect.ts"), import("../db/schema-diagram.ts")]);
      return new Response(svgDiagram(await describeSchema(db)), { headers: { "content-type": "image/svg+xml; charset=utf-8" } });
    }, {
      detail: routeDetail({
        summary: "ER diagram of the database tables (SVG)",
        tags: options.tags ?? ["Service"],
        response: Type.String({ examples: ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 200">…</svg>'] }),
        responseType: "image/svg+xml",
      }),
    });
  }
  const slowQueries = options.slowQueries;
  if (slowQueries && db) {
    addRoute(app, "GET", `${prefix}/$index-advice`, async () => {
      const { adviseIndexes } = await import("../db/index-advice.ts");
      return { items: await adviseIndexes(db, slowQueries.entries()) };
    }, {
      detail: routeDetail({
        summary: "Index advice",
        description: "Columns the logged slow statements filter or sort on that lead no index, most seen first, each with its CREATE INDEX statement.",
        tags: options.tags ?? ["Service"],
        response: IndexAdviceList,
      }),
    });
  }
  const readiness = options.readiness;
  if (readiness) {
    addRoute(app, "POST", `${prefix}/$drain`, ({ set }: { set: { status?: number } }) => {
      readiness.drain("POST /api/v1/system/$drain");
      set.status = 202;
      return { status: "draining" };
    }, {
      detail: routeDetail({
        summary: "Drain this instance",
        description: "Readiness answers 503 from now on; in-flight requests and jobs finish, then the process exits (blue-green and canary roll-outs).",
        tags: options.tags ?? ["Service"],
        status: 202,
        response: Type.Object({ status: Type.Literal("draining") }),
      }),
    });
  }
  return app;
}
