import { type AnyElysia, Elysia } from "elysia";
import type { ServiceInfo } from "../core/info.ts";
import { addRoute } from "./_route.ts";

const BASE_KEYS = ["display_name", "version", "summary", "description", "contact", "license_info"] as const;
const ML_KEYS = [
  "author",
  "author_note",
  "author_assessed_status",
  "contact_email",
  "organization",
  "organization_logo_url",
  "citation_info",
] as const;

/** Options of {@link infoDocument}. */
export interface InfoDocumentOptions {
  /** Emit every MLServiceInfo field (null when unset). Default: when any of them is set. */
  ml?: boolean;
}

/**
 * The `/api/v1/info` body: every field in declaration order with nulls
 * included, `version` defaulting to `1.0.0`, `description` falling back to
 * `summary`, then any extra keys as given.
 */
export function infoDocument(info: ServiceInfo, options: InfoDocumentOptions = {}): Record<string, unknown> {
  const source = info as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const key of BASE_KEYS) body[key] = source[key] ?? null;
  body.version = info.version ?? "1.0.0";
  body.description = info.description ?? info.summary ?? null;
  const ml = options.ml ?? ML_KEYS.some((key) => key in source);
  if (ml) for (const key of ML_KEYS) body[key] = source[key] ?? null;
  for (const [key, value] of Object.entries(source)) {
    if (!(key in body)) body[key] = value;
  }
  return body;
}

/** `GET /api/v1/info` (hidden from the OpenAPI document). */
export function infoRoutes(info: ServiceInfo, options: InfoDocumentOptions = {}): AnyElysia {
  const body = infoDocument(info, options);
  const app = new Elysia();
  addRoute(app, "GET", "/api/v1/info", () => body, { detail: { hide: true } });
  return app;
}
