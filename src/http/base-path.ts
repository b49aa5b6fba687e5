/**
 * The prefix a service is mounted under (`/svc`, or `""`): helpers that keep
 * routes, hooks, problem instances and the OpenAPI document in agreement.
 */

/** Whether `path` is `basePath` itself or lies below it; every path is under `""`. */
export function isUnderBasePath(path: string, basePath: string): boolean {
  return basePath === "" || path === basePath || path.startsWith(`${basePath}/`);
}

/** `path` with `basePath` removed from its front (`/svc/api` → `/api`, `/svc` → `/`); other paths unchanged. */
export function stripBasePath(path: string, basePath: string): string {
  if (basePath === "" || !isUnderBasePath(path, basePath)) return path;
  return path.slice(basePath.length) || "/";
}

/** The path of a request URL without parsing the whole URL (`http://h/a/b?q` → `/a/b`; request URLs carry no fragment). */
export function requestPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}
