/**
 * API versions from one definition: routes are written once, under the base
 * version (`/api/v1/...`), and every other version (`/api/v2/...`) is the
 * same routes seen through that version's transforms of request and answer
 * bodies. A request names its version by path; on an unversioned path
 * (`/api/notes`) by `Accept: application/vnd.chapkit.v2+json` or
 * `Accept-Version: 2`. Deprecated versions and routes answer `Deprecation`
 * (RFC 9745), `Sunset` (RFC 8594) and a `Link` to their migration guide, and
 * the OpenAPI document marks them `deprecated`.
 *
 * It works on `Request`s and `Response`s at the service's edge (see
 * `src/service/edge.ts`): nothing runs for a service without versions.
 */
import { ConfigurationError, NotAcceptableError } from "../core/errors.ts";
import type { ServiceModule } from "./module.ts";
import { problemResponse } from "./problem-response.ts";
import { VERSIONING_KEY } from "./versioning-key.ts";

/** Where a deprecation or sunset is announced: a date (`Date` or ISO 8601 text) and the migration guide. */
export interface Deprecation {
  /** When the version or route was (or will be) deprecated: `Deprecation: @<unix seconds>`. */
  deprecated: Date | string;
  /** When it stops answering: `Sunset: <HTTP-date>`. */
  sunset?: Date | string;
  /** The migration guide: `Link: <url>; rel="deprecation"`. */
  link?: string;
}

/** What a transform sees besides the body. */
export interface TransformContext {
  /** The version the client speaks, e.g. `v2`. */
  version: string;
  /** The HTTP method. */
  method: string;
  /** The request's path in the base version, without the mount prefix. */
  path: string;
}

/** How one version differs from the base version on the routes that `route` matches. */
export interface VersionTransform {
  /**
   * A route of the base version: `METHOD /path`, `/path` (any method); `:name`
   * matches one segment and a trailing `*` the rest, e.g. `GET /api/v1/notes/:id`.
   */
  route: string;
  /** The client's body (this version's shape) → the base version's shape. */
  request?: (body: unknown, context: TransformContext) => unknown;
  /** The base version's answer → this version's shape (problems are left alone). */
  response?: (body: unknown, context: TransformContext) => unknown;
}

/** One served version. */
export interface ApiVersion {
  /** How this version differs from the base version (none: the same API under another name). */
  transforms?: readonly VersionTransform[];
  /** Marks the whole version deprecated. */
  deprecation?: Deprecation;
}

/** A deprecated route, in any version. */
export interface DeprecatedRoute extends Deprecation {
  /** The route in the base version, as {@link VersionTransform.route}. */
  route: string;
}

/** Options of `withVersions()`. */
export interface VersioningOptions {
  /** The version the routes are written in (default `v1`): their paths start with `/api/<base>/`. */
  base?: string;
  /** Every version besides the base one, e.g. `{ v2: { transforms } }`; the base version may be listed for its deprecation. */
  versions: Record<string, ApiVersion>;
  /** The version of an unversioned path without a version header (default: the highest). */
  default?: string;
  /** Routes deprecated in every version. */
  deprecatedRoutes?: readonly DeprecatedRoute[];
}

const VERSION_NAME = /^v[0-9]+$/;
const VENDOR_TYPE = /application\/vnd\.chapkit\.(v[0-9]+)\+json/i;

interface CompiledRoute {
  method: string;
  segments: string[];
  rest: boolean;
}

function compileRoute(rule: string): CompiledRoute {
  const space = rule.indexOf(" ");
  const method = space < 0 ? "*" : rule.slice(0, space).toUpperCase();
  let path = space < 0 ? rule : rule.slice(space + 1).trim();
  const rest = path.endsWith("*");
  if (rest) path = path.slice(0, -1);
  return { method, segments: path.split("/").filter(Boolean), rest };
}

function routeMatches(route: CompiledRoute, method: string, path: string): boolean {
  if (route.method !== "*" && route.method !== method) return false;
  const segments = path.split("/").filter(Boolean);
  if (route.rest ? segments.length < route.segments.length : segments.length !== route.segments.length) return false;
  return route.segments.every((segment, i) => segment.startsWith(":") || segment === segments[i] || (route.rest && i === route.segments.length - 1 && segments[i]!.startsWith(segment)));
}

function toDate(value: Date | string, what: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new ConfigurationError(`Invalid ${what} date ${JSON.stringify(String(value))}: use ISO 8601, e.g. 2027-06-30`);
  return date;
}

/** The headers a deprecation adds. */
export interface DeprecationHeaders {
  /** `@<unix seconds>` (RFC 9745). */
  deprecation: string;
  /** HTTP-date (RFC 8594). */
  sunset?: string;
  /** `<guide>; rel="deprecation"; type="text/html"`. */
  link?: string;
}

/** A deprecation compiled: its headers, and its sunset and guide for the OpenAPI document. */
interface Announcement {
  headers: DeprecationHeaders;
  sunset?: Date;
  link?: string;
}

function announcement(deprecation: Deprecation, what: string): Announcement {
  const headers: DeprecationHeaders = { deprecation: `@${Math.floor(toDate(deprecation.deprecated, `${what} deprecation`).getTime() / 1000)}` };
  const sunset = deprecation.sunset === undefined ? undefined : toDate(deprecation.sunset, `${what} sunset`);
  if (sunset) headers.sunset = sunset.toUTCString();
  if (deprecation.link !== undefined) headers.link = `<${deprecation.link}>; rel="deprecation"; type="text/html"`;
  return { headers, ...(sunset ? { sunset } : {}), ...(deprecation.link !== undefined ? { link: deprecation.link } : {}) };
}

/** A request's version, resolved. */
interface Resolved {
  version: string;
  /** The path in the base version. */
  path: string;
  /** Whether the client asked for the vendor media type (answers carry it back). */
  vendor: boolean;
}

/** A handler of the service's requests. */
export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * The versions of a service, compiled once: {@link Versioning.wrap} puts
 * them in front of a fetch handler and {@link Versioning.document} adds them
 * to an OpenAPI document.
 */
export class Versioning {
  /** The base version's name. */
  readonly base: string;
  /** Every served version, base included, lowest first. */
  readonly names: readonly string[];
  readonly #default: string;
  readonly #transforms: Map<string, { route: CompiledRoute; transform: VersionTransform }[]>;
  readonly #deprecated: Map<string, Announcement>;
  readonly #routes: { route: CompiledRoute; announcement: Announcement }[];

  /** Compiles the options. @throws {ConfigurationError} for a version name other than `v<N>` or an invalid date. */
  constructor(options: VersioningOptions) {
    this.base = options.base ?? "v1";
    const names = new Set([this.base, ...Object.keys(options.versions)]);
    for (const name of names) {
      if (!VERSION_NAME.test(name)) throw new ConfigurationError(`Invalid API version ${JSON.stringify(name)}: use v<N>, e.g. v2`);
    }
    this.names = [...names].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    this.#default = options.default ?? this.names[this.names.length - 1]!;
    if (!names.has(this.#default)) throw new ConfigurationError(`The default API version ${this.#default} is not one of ${this.names.join(", ")}`);
    this.#transforms = new Map();
    this.#deprecated = new Map();
    for (const [name, version] of Object.entries(options.versions)) {
      this.#transforms.set(name, (version.transforms ?? []).map((transform) => ({ route: compileRoute(transform.route), transform })));
      if (version.deprecation) this.#deprecated.set(name, announcement(version.deprecation, `API version ${name}`));
    }
    this.#routes = (options.deprecatedRoutes ?? []).map((deprecated) => ({
      route: compileRoute(deprecated.route),
      announcement: announcement(deprecated, `route ${deprecated.route}`),
    }));
  }

  /** The version a request names and its path in the base version, or undefined for a path outside `/api/`. */
  #resolve(request: Request, path: string): Resolved | undefined {
    if (!path.startsWith("/api/")) return undefined;
    const slash = path.indexOf("/", 5);
    const first = path.slice(5, slash < 0 ? undefined : slash);
    const rest = slash < 0 ? "" : path.slice(slash);
    const accept = request.headers.get("accept");
    const vendor = accept !== null && VENDOR_TYPE.exec(accept);
    if (VERSION_NAME.test(first)) {
      if (!this.names.includes(first)) return undefined;
      return { version: first, path: `/api/${this.base}${rest}`, vendor: Boolean(vendor) };
    }
    const header = request.headers.get("accept-version")?.trim().toLowerCase();
    let version = vendor ? vendor[1]!.toLowerCase() : header ? (header.startsWith("v") ? header : `v${header}`) : this.#default;
    if (!this.names.includes(version)) version = "";
    return { version, path: `/api/${this.base}${path.slice(4)}`, vendor: Boolean(vendor) };
  }

  /**
   * A fetch handler that serves every version through `next` (which serves
   * the base version). `basePath` is the service's mount prefix.
   */
  wrap(next: FetchHandler, basePath = ""): FetchHandler {
    return async (request: Request): Promise<Response> => {
      const url = new URL(request.url);
      const path = basePath && url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : url.pathname;
      const resolved = this.#resolve(request, path);
      if (!resolved) return next(request);
      if (resolved.version === "") return unknownVersion(this.names, url.pathname);
      const { version } = resolved;
      const context: TransformContext = { version, method: request.method, path: resolved.path };
      const transforms = version === this.base ? [] : (this.#transforms.get(version) ?? []).filter(({ route }) => routeMatches(route, request.method, resolved.path));
      let inner = request;
      if (resolved.path !== path || resolved.vendor || transforms.some(({ transform }) => transform.request)) {
        inner = await this.#innerRequest(request, url, basePath + resolved.path, resolved.vendor, transforms, context);
      }
      let response = await next(inner);
      if (version !== this.base || resolved.vendor) {
        response = await this.#outerResponse(response, url.origin + basePath, version, resolved.vendor, transforms, context);
      }
      return this.#announce(response, version, request.method, resolved.path);
    };
  }

  async #innerRequest(
    request: Request,
    url: URL,
    pathname: string,
    vendor: boolean,
    transforms: { transform: VersionTransform }[],
    context: TransformContext,
  ): Promise<Request> {
    const target = new URL(url);
    target.pathname = pathname;
    const headers = new Headers(request.headers);
    if (vendor) headers.set("accept", "application/json");
    const requestTransforms = transforms.filter(({ transform }) => transform.request);
    if (requestTransforms.length === 0 || request.body === null) {
      return new Request(target, { method: request.method, headers, body: request.body, signal: request.signal, ...({ duplex: "half" } as object) });
    }
    const text = await request.text();
    let body: unknown = text.trim() === "" ? null : safeParse(text);
    if (body === undefined) return new Request(target, { method: request.method, headers, body: text, signal: request.signal });
    for (const { transform } of requestTransforms) body = transform.request!(body, context);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    return new Request(target, { method: request.method, headers, body: JSON.stringify(body), signal: request.signal });
  }

  async #outerResponse(
    response: Response,
    origin: string,
    version: string,
    vendor: boolean,
    transforms: { transform: VersionTransform }[],
    context: TransformContext,
  ): Promise<Response> {
    const headers = new Headers(response.headers);
    const from = `${origin}/api/${this.base}/`;
    const to = `${origin}/api/${version}/`;
    for (const name of ["location", "link", "content-location"]) {
      const value = headers.get(name);
      if (value !== null) headers.set(name, value.replaceAll(from, to));
    }
    const type = headers.get("content-type") ?? "";
    const responseTransforms = transforms.filter(({ transform }) => transform.response);
    const json = type.startsWith("application/json");
    if (vendor && json) headers.set("content-type", `application/vnd.chapkit.${version}+json`);
    if (responseTransforms.length === 0 || !json || response.body === null) {
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }
    let body: unknown = await response.json();
    for (const { transform } of responseTransforms) body = transform.response!(body, context);
    const text = JSON.stringify(body);
    headers.delete("content-length");
    // The transformed body is another representation: its tag must differ from the base version's.
    const etag = headers.get("etag");
    if (etag !== null) headers.set("etag", etag.replace(/"$/, `-${version}"`));
    return new Response(text, { status: response.status, statusText: response.statusText, headers });
  }

  #announcementOf(version: string, method: string, path: string): Announcement | undefined {
    return this.#deprecated.get(version) ?? this.#routes.find(({ route }) => routeMatches(route, method, path))?.announcement;
  }

  #announce(response: Response, version: string, method: string, path: string): Response {
    const found = this.#announcementOf(version, method, path)?.headers;
    if (!found) return response;
    const headers = new Headers(response.headers);
    headers.set("deprecation", found.deprecation);
    if (found.sunset) headers.set("sunset", found.sunset);
    if (found.link) headers.append("link", found.link);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }

  /**
   * The OpenAPI document with every version's paths: the base version's
   * operations copied under each other version, deprecated versions and
   * routes marked `deprecated: true` with `x-sunset` and their guide in
   * `externalDocs`, and `x-api-versions` listing the versions.
   */
  document(document: Record<string, unknown>): Record<string, unknown> {
    const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
    const out: Record<string, Record<string, Record<string, unknown>>> = {};
    const prefix = `/api/${this.base}/`;
    for (const version of this.names) {
      for (const [path, item] of Object.entries(paths)) {
        if (version !== this.base && !path.startsWith(prefix)) continue;
        const target = version === this.base ? path : `/api/${version}/${path.slice(prefix.length)}`;
        const copy: Record<string, Record<string, unknown>> = {};
        for (const [method, operation] of Object.entries(item)) {
          const operationCopy = structuredClone(operation);
          if (version !== this.base && typeof operationCopy.operationId === "string") operationCopy.operationId = `${operationCopy.operationId}_${version}`;
          const found = this.#announcementOf(version, method.toUpperCase(), path.replace(/\{([^}]+)\}/g, ":$1"));
          if (found) {
            operationCopy.deprecated = true;
            if (found.sunset) operationCopy["x-sunset"] = found.sunset.toISOString();
            if (found.link) operationCopy.externalDocs = { description: "Migration guide", url: found.link };
          }
          copy[method] = operationCopy;
        }
        out[target] = copy;
      }
    }
    return {
      ...document,
      paths: out,
      "x-api-versions": this.names.map((name) => ({ name, base: name === this.base, default: name === this.#default, deprecated: this.#deprecated.has(name) })),
    };
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function unknownVersion(names: readonly string[], instance: string): Response {
  return problemResponse(new NotAcceptableError(`Unknown API version; this service serves ${names.join(", ")}`), instance);
}

/**
 * The module `withVersions()` installs: it compiles the versions and
 * provides them under {@link VERSIONING_KEY}, where the edge and the OpenAPI
 * document find them.
 *
 * @throws {ConfigurationError} for a bad version name or date (at build time).
 */
export function versioningModule(options: VersioningOptions): ServiceModule {
  const versioning = new Versioning(options);
  return {
    name: "versioning",
    setup(context): void {
      context.provide(VERSIONING_KEY, versioning);
    },
  };
}
