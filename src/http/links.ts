/**
 * Hypermedia links of CRUD answers (RFC 8288): a `Link` header on list and
 * item answers (`self`, `next`, `prev`, `first`, `collection`,
 * `describedby`, `related`) and, where an entity opts in, the same links as
 * a `_links` body member (the {@link LinkSet} itself:
 * `{"self": {"href": "…"}}`, as HAL writes them).
 */

/** One link target: an absolute URL and, for `related`, the collection's title. */
export interface Link {
  /** Absolute URL. */
  href: string;
  /** What the target is, e.g. `artifacts`. */
  title?: string;
}

/** Links of one answer: relation → target (`related` may hold several). */
export type LinkSet = Record<string, Link | Link[]>;

/** How links are added to a CRUD router's answers. */
export interface LinkOptions {
  /** Related collections of an item, by title, e.g. `{ artifacts: (item) => "/api/v1/artifacts?filter=config_id=\"…\"" }` (service paths). */
  related?: Record<string, (item: Record<string, unknown>) => string>;
  /** Also add `_links` to item bodies and page envelopes (default false: the contract's bodies have no extra keys). */
  body?: boolean;
}

/** The `Link` header value of a link set. */
export function formatLinks(links: LinkSet): string {
  let header = "";
  for (const rel in links) {
    const target = links[rel]!;
    for (const link of Array.isArray(target) ? target : [target]) {
      if (header !== "") header += ", ";
      header += `<${link.href}>; rel="${rel}"${link.title === undefined ? "" : `; title="${link.title.replace(/["\\]/g, "")}"`}`;
    }
  }
  return header;
}

// Bun hands requests their URL in WHATWG form; Deno's server passes the request line as sent (host case, default port, dot segments).
const NORMALISED_URLS = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/**
 * The origin and path of a request URL without its query and trailing
 * slashes, as `new URL(url)` gives them; string work where the URL is
 * already normalised (every item answer needs it).
 */
function selfOf(raw: string): string {
  const url = NORMALISED_URLS ? raw : new URL(raw).href;
  const query = url.indexOf("?", url.indexOf("//") + 2);
  return withoutTrailingSlashes(query < 0 ? url : url.slice(0, query));
}

/** An origin and path (no query) without the slashes that end its path. */
function withoutTrailingSlashes(base: string): string {
  const start = base.indexOf("/", base.indexOf("//") + 2);
  if (start < 0) return base;
  let end = base.length;
  while (end > start && base.charCodeAt(end - 1) === 47) end--;
  return base.slice(0, end);
}

/** The `Link` header of an item answer without related collections: `self` and `collection`. */
export function itemLinkHeader(request: Request): string {
  const self = selfOf(request.url);
  return `<${self}>; rel="self", <${self.slice(0, self.lastIndexOf("/"))}>; rel="collection"`;
}

// Queries and values that form-urlencoding leaves as they are: for them, changing a parameter is text work.
const PLAIN_QUERY = /^[A-Za-z0-9*._=&-]*$/;
const PLAIN_VALUE = /^[A-Za-z0-9*._-]*$/;

/** The name/value pairs of a plain query (see PLAIN_QUERY); undefined when one would be re-encoded. */
function plainPairs(query: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) pairs.push([part, ""]);
    else if (part.indexOf("=", eq + 1) >= 0) return undefined;
    else pairs.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  return pairs;
}

/**
 * `base` (origin and path) with the query `query` (without `?`) changed as
 * `URLSearchParams#set`/`delete` would and serialised as it does; without a
 * `URLSearchParams` when the query and the new values need no encoding.
 */
function withParams(base: string, query: string, changes: Record<string, string | undefined>): string {
  let plain = PLAIN_QUERY.test(query);
  for (const name in changes) {
    const value = changes[name];
    if (!PLAIN_VALUE.test(name) || (value !== undefined && !PLAIN_VALUE.test(value))) plain = false;
  }
  const pairs = plain ? plainPairs(query) : undefined;
  if (!pairs) {
    const params = new URLSearchParams(query);
    for (const name in changes) {
      const value = changes[name];
      if (value === undefined) params.delete(name);
      else params.set(name, value);
    }
    const serialised = params.toString();
    return serialised === "" ? base : `${base}?${serialised}`;
  }
  let out = pairs;
  for (const name in changes) {
    const value = changes[name];
    const first = out.findIndex(([key]) => key === name);
    out = out.filter(([key], i) => key !== name || (value !== undefined && i === first));
    if (value !== undefined) {
      if (first < 0) out.push([name, value]);
      else out.find(([key]) => key === name)![1] = value;
    }
  }
  const serialised = out.map(([name, value]) => `${name}=${value}`).join("&");
  return serialised === "" ? base : `${base}?${serialised}`;
}

/**
 * The links of a list answer: `self`; `next` and `first` of a cursor page;
 * `first`, `prev` and `next` of a numbered page; `describedby` (the
 * collection's `$schema`).
 */
export function listLinks(request: Request, body: unknown): LinkSet {
  const href = NORMALISED_URLS ? request.url : new URL(request.url).href;
  const hashAt = href.indexOf("#");
  const hash = hashAt < 0 ? "" : href.slice(hashAt);
  const bare = hashAt < 0 ? href : href.slice(0, hashAt);
  const mark = bare.indexOf("?");
  const base = mark < 0 ? bare : bare.slice(0, mark);
  const query = mark < 0 ? "" : bare.slice(mark + 1);
  const link = (changes: Record<string, string | undefined>): Link => ({ href: withParams(base, query, changes) + hash });
  const collection = withoutTrailingSlashes(base);
  const links: LinkSet = { self: { href } };
  if (body !== null && typeof body === "object" && !Array.isArray(body)) {
    const page = body as { next_cursor?: unknown; page?: unknown; pages?: unknown; items?: unknown[]; size?: unknown };
    if ("next_cursor" in page) {
      links.first = link({ cursor: undefined });
      if (typeof page.next_cursor === "string") links.next = link({ cursor: page.next_cursor });
    } else if (typeof page.page === "number") {
      links.first = link({ page: "1" });
      if (page.page > 1) links.prev = link({ page: String(page.page - 1) });
      const more = typeof page.pages === "number"
        ? page.page < page.pages
        : Array.isArray(page.items) && typeof page.size === "number" && page.items.length >= page.size;
      if (more) links.next = link({ page: String(page.page + 1) });
    }
  }
  links.describedby = { href: `${collection}/$schema` };
  return links;
}

/** The links of an item answer: `self`, `collection` and its `related` collections. */
export function itemLinks(request: Request, item: Record<string, unknown>, options: LinkOptions = {}, basePath = ""): LinkSet {
  const self = selfOf(request.url);
  const links: LinkSet = { self: { href: self }, collection: { href: self.slice(0, self.lastIndexOf("/")) } };
  if (options.related) {
    const slash = self.indexOf("/", self.indexOf("//") + 2);
    const origin = slash < 0 ? self : self.slice(0, slash);
    const related: Link[] = [];
    for (const title in options.related) related.push({ href: `${origin}${basePath}${options.related[title]!(item)}`, title });
    if (related.length > 0) links.related = related;
  }
  return links;
}
