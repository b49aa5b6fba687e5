import { principalOf } from "../../http/auth-guard.ts";

/**
 * The sticky routing key of a request under a policy's `sticky_by`: `user`
 * (the authenticated principal's id), `header:<name>`, or `field:<name>`
 * (a field of the body, else of its KServe `parameters`); null when absent.
 */
export function stickyKey(stickyBy: string | null, request: Request, body: Record<string, unknown> | null): string | null {
  if (!stickyBy) return null;
  if (stickyBy === "user") return principalOf(request)?.id ?? null;
  const [kind, name] = [stickyBy.slice(0, stickyBy.indexOf(":")), stickyBy.slice(stickyBy.indexOf(":") + 1)];
  if (kind === "header") return request.headers.get(name);
  if (kind === "field" && body) {
    const parameters = body.parameters as Record<string, unknown> | undefined;
    const value = body[name] ?? (typeof parameters === "object" && parameters !== null ? parameters[name] : undefined);
    return value === undefined || value === null ? null : String(value);
  }
  return null;
}
