import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { toOpenAPISchema } from "@elysiajs/openapi";
import { ScalarRender } from "@elysiajs/openapi/scalar";
import { type AnyElysia, Elysia } from "elysia";
import type { ServiceInfo } from "../core/info.ts";
import { addRoute } from "./_route.ts";
import { isUnderBasePath, stripBasePath } from "./base-path.ts";

/** Options of {@link docsRoutes}. */
export interface DocsOptions {
  /** Title, version and description of the document. */
  info: ServiceInfo;
  /** Prefix the service is mounted under inside a host app (default none). */
  basePath?: string;
}

/** Where the docs UI loads its script from: served by the service itself. */
export const DOCS_SCRIPT_PATH = "/docs/scalar.js";

const OPENAPI_VERSION = "3.1.2";
const HIDDEN = { detail: { hide: true } };

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
 * The OpenAPI document of the service's routes only: a host app's routes
 * are left out, paths are relative to `basePath`, and `servers` names it.
 */
function openApiDocument(app: AnyElysia, options: DocsOptions): Record<string, unknown> {
  const base = options.basePath ?? "";
  const { paths, components } = toOpenAPISchema(app, undefined, undefined, undefined, OPENAPI_VERSION);
  const own: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(paths)) {
    if (isUnderBasePath(path, base)) own[stripBasePath(path, base)] = item;
  }
  const { info } = options;
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: info.display_name,
      version: info.version ?? "1.0.0",
      description: info.summary ?? info.description ?? "",
    },
    ...(base ? { servers: [{ url: base }] } : {}),
    paths: own,
    components,
  };
}

/**
 * The OpenAPI 3.1 document at `/openapi.json` and its UI (Scalar) at `/docs`.
 * The UI's script comes from the `@scalar/api-reference` package and is
 * served at `/docs/scalar.js`, so the docs work with no internet access.
 * Under a `basePath` the document's paths stay those of the service and its
 * `servers` entry carries the prefix, which the page follows.
 */
export function docsRoutes(options: DocsOptions): AnyElysia {
  const base = options.basePath ?? "";
  const { info } = options;
  const app = new Elysia();
  let document: { routes: number; body: Record<string, unknown> } | undefined;
  addRoute(app, "GET", "/openapi.json", () => {
    // Routes only grow while an app is assembled; the document is rebuilt when their number changes.
    const routes = (app as unknown as { getGlobalRoutes(): unknown[] }).getGlobalRoutes().length;
    if (document?.routes !== routes) document = { routes, body: openApiDocument(app, options) };
    return document.body;
  }, HIDDEN);
  const page = ScalarRender(
    { title: info.display_name, version: info.version ?? "1.0.0", description: info.summary ?? info.description ?? "" },
    {
      url: `${base}/openapi.json`,
      cdn: `${base}${DOCS_SCRIPT_PATH}`,
      withDefaultFonts: false,
      telemetry: false,
      _integration: "elysiajs",
    } as never,
  );
  addRoute(app, "GET", "/docs", () => new Response(page, { headers: { "content-type": "text/html; charset=utf8" } }), HIDDEN);
  addRoute(app, "GET", DOCS_SCRIPT_PATH, async () =>
    new Response(await scalarScript() as BodyInit, {
      headers: {
        "content-type": "application/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
      },
    }), HIDDEN);
  return app;
}
