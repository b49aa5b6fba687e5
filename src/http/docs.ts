import { type AnyElysia, Elysia } from "elysia";
import type { ServiceInfo } from "../core/info.ts";
import { addRoute } from "./_route.ts";
import { isUnderBasePath, stripBasePath } from "./base-path.ts";
import { escapeHtml, pageHeaders } from "./html.ts";

/** Options of {@link docsRoutes}. */
export interface DocsOptions {
  /** Title, version and description of the document. */
  info: ServiceInfo;
  /** Prefix the service is mounted under inside a host app (default none). */
  basePath?: string;
  /** Changes the generated document before it is served (e.g. adds API versions). */
  transform?: (document: Record<string, unknown>) => Record<string, unknown>;
}

/** Where the docs UI loads its script from: served by the service itself. */
export const DOCS_SCRIPT_PATH = "/docs/scalar.js";

/** Where the built-in page (served without `@scalar/api-reference`) loads its script from. */
const FALLBACK_SCRIPT_PATH = "/docs/openapi-page.js";

const OPENAPI_VERSION = "3.1.2";

// The browser itself refuses any source but the service.
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const HIDDEN = { detail: { hide: true } };
const SCRIPT_HEADERS = { "content-type": "application/javascript; charset=utf-8", "cache-control": "public, max-age=86400" };

let script: Promise<Uint8Array> | undefined;

/**
 * The Scalar bundle from the installed `@scalar/api-reference` (an optional
 * peer): read from disk where the package sits in a `node_modules` tree
 * (sources, the npm tarball), else imported as text through the import map
 * (the JSR file set, whose modules have no `node_modules` beside them).
 * Rejects when the package is not installed.
 */
function scalarScript(): Promise<Uint8Array> {
  script ??= (async () => {
    try {
      const [{ readFile }, { createRequire }] = await Promise.all([import("node:fs/promises"), import("node:module")]);
      const require = createRequire(import.meta.url);
      return new Uint8Array(await readFile(require.resolve("@scalar/api-reference/browser/standalone.js")));
    } catch {
      // @ts-ignore: a text import of a JavaScript bundle has no declaration file (Deno types it as a string module).
      const module = await import("@scalar/api-reference/browser/standalone.js", { with: { type: "text" } }) as { default: string };
      return new TextEncoder().encode(module.default);
    }
  })();
  script.catch(() => (script = undefined));
  return script;
}

/**
 * The Scalar configuration of the page: everything it loads comes from the
 * service (no fonts, proxy, telemetry, AI agent or client/deploy buttons
 * that call other hosts).
 */
function scalarConfiguration(base: string): Record<string, unknown> {
  return {
    url: `${base}/openapi.json`,
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: true,
    showDeveloperTools: "never",
    showToolbar: "never",
    agent: { disabled: true, hideAddApi: true },
    _integration: "elysiajs",
  };
}

/** The docs page; the service info is HTML-escaped wherever it appears. */
export function docsPageHtml(info: ServiceInfo, basePath = ""): string {
  const description = info.summary ?? info.description ?? "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.display_name)}</title>
<meta name="description" content="${escapeHtml(description)}">
<style>body { margin: 0; }</style>
</head>
<body>
<script id="api-reference" data-configuration="${escapeHtml(JSON.stringify(scalarConfiguration(basePath)))}"></script>
<script src="${escapeHtml(`${basePath}${DOCS_SCRIPT_PATH}`)}"></script>
</body>
</html>
`;
}

/**
 * The OpenAPI document of the service's routes only: a host app's routes
 * are left out, paths are relative to `basePath`, and `servers` names it;
 * titled schemas are named components and bodies carry examples, so client
 * generators give named types.
 */
async function openApiDocument(app: AnyElysia, options: DocsOptions): Promise<Record<string, unknown>> {
  const base = options.basePath ?? "";
  // Loaded on the first request for the document, not at start-up.
  const [{ toOpenAPISchema }, { forClientGenerators }] = await Promise.all([import("@elysiajs/openapi"), import("./_openapi-components.ts")]);
  const { paths, components } = toOpenAPISchema(app, undefined, undefined, undefined, OPENAPI_VERSION);
  const own: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(paths)) {
    if (isUnderBasePath(path, base)) own[stripBasePath(path, base)] = item;
  }
  const { info } = options;
  return forClientGenerators({
    openapi: OPENAPI_VERSION,
    info: {
      title: info.display_name,
      version: info.version ?? "1.0.0",
      description: info.summary ?? info.description ?? "",
    },
    servers: [{ url: base || "/" }],
    paths: own,
    components,
  });
}

/**
 * The OpenAPI 3.1 document at `/openapi.json` and its UI (Scalar) at `/docs`.
 * The UI's script comes from the `@scalar/api-reference` package and is
 * served at `/docs/scalar.js`, so the docs work with no internet access and
 * the page asks no other host for anything. Without that package (an
 * optional peer) `/docs` serves a small built-in page listing the document's
 * operations, just as offline.
 * Under a `basePath` the document's paths stay those of the service and its
 * `servers` entry carries the prefix, which the page follows.
 */
export function docsRoutes(options: DocsOptions): AnyElysia {
  const base = options.basePath ?? "";
  const { info } = options;
  const app = new Elysia();
  let document: { routes: number; body: Promise<Record<string, unknown>> } | undefined;
  addRoute(app, "GET", "/openapi.json", () => {
    // Routes only grow while an app is assembled; the document is rebuilt when their number changes.
    const routes = (app as unknown as { getGlobalRoutes(): unknown[] }).getGlobalRoutes().length;
    if (document?.routes !== routes) {
      const transform = options.transform;
      const body = openApiDocument(app, options);
      document = { routes, body: transform ? body.then(transform) : body };
    }
    return document.body;
  }, HIDDEN);
  const page = docsPageHtml(info, base);
  // The built-in page loads with the first request for it, not at start-up.
  let fallback: Promise<string> | undefined;
  const fallbackPage = (): Promise<string> =>
    fallback ??= import("./_docs-fallback.ts").then(({ fallbackPageHtml }) =>
      fallbackPageHtml(
        escapeHtml(info.display_name),
        escapeHtml(info.summary ?? info.description ?? ""),
        escapeHtml(`${base}/openapi.json`),
        escapeHtml(`${base}${FALLBACK_SCRIPT_PATH}`),
      )
    );
  addRoute(app, "GET", "/docs", async () => {
    const scalar = await scalarScript().then(() => true, () => false);
    return new Response(scalar ? page : await fallbackPage(), { headers: pageHeaders(DOCS_CSP) });
  }, HIDDEN);
  addRoute(app, "GET", DOCS_SCRIPT_PATH, async () => {
    const body = await scalarScript().catch(() => undefined);
    if (!body) return new Response("@scalar/api-reference is not installed: bun add @scalar/api-reference\n", { status: 404 });
    return new Response(body as BodyInit, { headers: SCRIPT_HEADERS });
  }, HIDDEN);
  addRoute(app, "GET", FALLBACK_SCRIPT_PATH, async () => {
    const { FALLBACK_SCRIPT } = await import("./_docs-fallback.ts");
    return new Response(FALLBACK_SCRIPT, { headers: SCRIPT_HEADERS });
  }, HIDDEN);
  return app;
}
