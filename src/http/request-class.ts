/**
 * Which requests the overload protections leave alone. Health and metrics
 * must answer on a busy instance (an orchestrator would otherwise restart
 * it); streams (SSE, WebSocket, downloads, uploads) live long by design and
 * are exempt from the request timeout, the in-flight cap and compression.
 */

const HEALTH = /^(?:\/api\/v1\/health|\/health|\/v2\/health|\/metrics)(?:\/|$)/;
const STREAM_PATH = /\/\$(?:stream|download|upload|uploads(?:\/[^/]+)?|export|import)\/?$/;

/** Whether `path` (without the mount prefix) is a health or metrics path. */
export function isHealthPath(path: string): boolean {
  return HEALTH.test(path);
}

/** Whether the request opens or sends a stream. */
export function isStreamRequest(request: Request, path: string): boolean {
  if (STREAM_PATH.test(path)) return true;
  const headers = request.headers;
  if (headers.get("upgrade")?.toLowerCase() === "websocket") return true;
  if (headers.get("accept")?.includes("text/event-stream")) return true;
  const type = headers.get("content-type");
  return type !== null && (type.startsWith("multipart/") || type.startsWith("application/octet-stream"));
}

/** The path of an absolute URL, without parsing it whole (this runs on every request). */
export function pathnameOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  return start < 0 ? "/" : url.slice(start, end < 0 ? undefined : end);
}

/** The request's path without `basePath` (a mount prefix such as `/chap`). */
export function servicePath(request: Request, basePath: string): string {
  const path = pathnameOf(request.url);
  return basePath && path.startsWith(basePath) ? path.slice(basePath.length) || "/" : path;
}

/** Whether `METHOD /path` matches a rule key such as `POST /api/v1/ml/*` or `* /api/v1/configs`. */
export function matchesRoute(rule: string, method: string, path: string): boolean {
  const space = rule.indexOf(" ");
  const ruleMethod = space < 0 ? "*" : rule.slice(0, space);
  const rulePath = space < 0 ? rule : rule.slice(space + 1);
  if (ruleMethod !== "*" && ruleMethod.toUpperCase() !== method) return false;
  return rulePath.endsWith("*") ? path.startsWith(rulePath.slice(0, -1)) : path === rulePath || path === `${rulePath}/`;
}
