import { ValidationError } from "../../core/errors.ts";

/**
 * A login's `redirect_to`, checked: a path of this service, or a URL of the
 * service's own or an allowed origin; anything else is refused (no open redirect).
 * @throws {ValidationError}
 */
export function safeRedirect(target: string, requestUrl: string, options: { publicUrl?: string | undefined; origins?: readonly string[] | undefined } = {}): string {
  if (target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\")) return target;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ValidationError([{ loc: ["query", "redirect_to"], msg: "Must be a path or an allowed origin's URL", type: "value_error" }]);
  }
  const allowed = new Set([new URL(options.publicUrl ?? requestUrl).origin, ...(options.origins ?? [])]);
  if (!allowed.has(url.origin)) throw new ValidationError([{ loc: ["query", "redirect_to"], msg: `Origin ${url.origin} is not allowed`, type: "value_error" }]);
  return url.href;
}
