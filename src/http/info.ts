import { type AnyElysia, Elysia } from "elysia";
import type { ChapServiceInfo, ServiceInfo } from "../core/info.ts";
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
  /** `chap`: answer {@link chapInfoDocument} (in the OpenAPI document); default `seed`. */
  profile?: "seed" | "chap";
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

/** `GET /api/v1/info` (hidden from the OpenAPI document in the seed profile, as in Chapkit 0.1). */
export function infoRoutes(info: ServiceInfo, options: InfoDocumentOptions = {}): AnyElysia {
  const chap = options.profile === "chap";
  const body = chap ? chapInfoDocument(info as ChapServiceInfo) : infoDocument(info, options);
  const app = new Elysia();
  addRoute(app, "GET", "/api/v1/info", () => body, {
    detail: chap ? { summary: "Service info (MLServiceInfo)", tags: ["Service"] } : { hide: true },
  });
  return app;
}

const METADATA_KEYS = [...ML_KEYS, "repository_url", "documentation_url"] as const;
const SLUG = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A slug made from a display name: lower case, runs of other characters become one `-`. */
export function slugOf(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^[-0-9]+|-+$/g, "");
  return slug.length > 0 ? slug : "service";
}

function checkUrl(key: string, value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value !== "string" || !/^https?:\/\/[^\s/]+/.test(value)) {
    throw new TypeError(`model_metadata.${key} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
}

/**
 * The `/api/v1/info` body of the chap profile (chapkit 1.x MLServiceInfo,
 * contract-chapcore §4.2): exactly `id, display_name, version, description,
 * model_metadata{…9 keys}, period_type, min_prediction_periods,
 * max_prediction_periods, allow_free_additional_continuous_covariates,
 * required_covariates, requires_geo`, nulls included, in that order. Seed
 * fields (`author`, …) fill `model_metadata` when it is not given; other
 * keys are left out, because chap-core refuses unknown ones.
 *
 * @throws {TypeError} an `id` that is not a slug, a bad URL or period bound.
 */
export function chapInfoDocument(info: ChapServiceInfo): Record<string, unknown> {
  const id = info.id ?? slugOf(info.display_name);
  if (!SLUG.test(id)) throw new TypeError(`info.id must be a slug (^[a-z][a-z0-9]*(-[a-z0-9]+)*$), got ${JSON.stringify(id)}`);
  const source = (info.model_metadata ?? info) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const key of METADATA_KEYS) metadata[key] = source[key] ?? null;
  for (const key of ["organization_logo_url", "repository_url", "documentation_url"]) checkUrl(key, metadata[key]);
  const email = metadata.contact_email;
  if (email !== null && (typeof email !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))) {
    throw new TypeError(`model_metadata.contact_email must be an email address, got ${JSON.stringify(email)}`);
  }
  const status = metadata.author_assessed_status;
  if (status !== null && !["gray", "red", "orange", "yellow", "green"].includes(status as string)) {
    throw new TypeError(`model_metadata.author_assessed_status must be gray, red, orange, yellow or green, got ${JSON.stringify(status)}`);
  }
  const period = info.period_type ?? "monthly";
  if (period !== "weekly" && period !== "monthly") throw new TypeError(`info.period_type must be weekly or monthly, got ${JSON.stringify(period)}`);
  const min = info.min_prediction_periods ?? 0;
  const max = info.max_prediction_periods ?? 100;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) {
    throw new TypeError(`info.min_prediction_periods/max_prediction_periods must be integers with 0 <= min <= max, got ${min}/${max}`);
  }
  return {
    id,
    display_name: info.display_name,
    version: info.version ?? "1.0.0",
    description: info.description ?? null,
    model_metadata: metadata,
    period_type: period,
    min_prediction_periods: min,
    max_prediction_periods: max,
    allow_free_additional_continuous_covariates: info.allow_free_additional_continuous_covariates ?? false,
    required_covariates: [...(info.required_covariates ?? [])],
    requires_geo: info.requires_geo ?? false,
  };
}
