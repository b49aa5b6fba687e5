import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { openapi } from "@elysiajs/openapi";
import { type AnyElysia, Elysia } from "elysia";
import type { ServiceInfo } from "../core/info.ts";
import { addRoute } from "./_route.ts";

/** Options of {@link docsRoutes}. */
export interface DocsOptions {
  /** Title, version and description of the document. */
  info: ServiceInfo;
  /** Prefix the service is mounted under inside a host app (default none). */
  basePath?: string;
}

/** Where the docs UI loads its script from: served by the service itself. */
export const DOCS_SCRIPT_PATH = "/docs/scalar.js";

let script: Promise<Uint8Array> | undefined;

function scalarScript(): Promise<Uint8Array> {
  script ??= (async () => {
    const require = createRequire(import.meta.url);
    const file = require.resolve("@scalar/api-reference/browser/standalone.js");
    return new Uint8Array(await readFile(file));
  })();
  return script;
}

/**
 * The OpenAPI 3.1 document at `/openapi.json` and its UI (Scalar) at `/docs`.
 * The UI's script comes from the `@scalar/api-reference` package and is
 * served at `/docs/scalar.js`, so the docs work with no internet access.
 */
export function docsRoutes(options: DocsOptions): AnyElysia {
  const base = options.basePath ?? "";
  const { info } = options;
  const plugin = openapi({
    path: "/docs",
    specPath: "/openapi.json",
    provider: "scalar",
    documentation: {
      info: {
        title: info.display_name,
        version: info.version ?? "1.0.0",
        description: info.summary ?? info.description ?? "",
      },
    },
    scalar: {
      url: `${base}/openapi.json`,
      cdn: `${base}${DOCS_SCRIPT_PATH}`,
      withDefaultFonts: false,
      telemetry: false,
    } as never,
  });
  const app = new Elysia().use(plugin);
  addRoute(app, "GET", DOCS_SCRIPT_PATH, async () =>
    new Response(await scalarScript() as BodyInit, {
      headers: {
        "content-type": "application/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
      },
    }), { detail: { hide: true } });
  return app;
}
