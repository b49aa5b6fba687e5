/**
 * Rate limiting of a service's routes: each policy of the `rateLimit`
 * settings counts requests per client address, API key, user and/or route
 * (sliding window, see `src/core/rate-limit.ts`); a request must fit every
 * policy that matches it, else it answers a 429 problem with `Retry-After`.
 * Every limited answer carries the IETF `RateLimit-Policy` and `RateLimit`
 * header fields (draft-ietf-httpapi-ratelimit-headers). It runs after the
 * auth guard, so `user` counts the authenticated principal. Health and
 * metrics are never limited. Settings are read per request, so a reload
 * applies at once.
 */
import { Elysia } from "elysia";
import { RateLimitedError } from "../core/errors.ts";
import type { Logger } from "../core/logging.ts";
import type { RateLimitDecision, RateLimitStore } from "../core/rate-limit.ts";
import type { RateLimitPolicySetting, Settings } from "../core/settings/schema.ts";
import { nodeCrypto } from "../runtime/builtins.ts";
import { clientAddressOf } from "../runtime/client-address.ts";
import { principalOf } from "./auth-guard.ts";
import { isHealthPath, matchesRoute, servicePath } from "./request-class.ts";

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** The current settings (read per request). */
  settings: () => Settings["rateLimit"];
  /** Where counters live. */
  store: RateLimitStore;
  /** Logs a store failure (the request is then let through). */
  logger: Logger;
  /** The mount prefix, stripped before matching routes. */
  basePath?: string;
  /** Header carrying API keys (default `x-api-key`). */
  apiKeyHeader?: string;
}

// node:crypto costs start-up time: it loads with the first credential hashed.
function digest(secret: string): string {
  return nodeCrypto().createHash("sha256").update(secret).digest("hex").slice(0, 24);
}

function credentialOf(request: Request, header: string): string | undefined {
  const key = request.headers.get(header);
  if (key) return `key:${digest(key)}`;
  const authorization = request.headers.get("authorization");
  return authorization?.toLowerCase().startsWith("bearer ") ? `token:${digest(authorization.slice(7).trim())}` : undefined;
}

/** The counter key of `policy` for this request: its dimensions joined. */
function counterKey(policy: RateLimitPolicySetting, request: Request, route: string, options: RateLimitOptions, trustProxy: boolean): string {
  const address = (): string => `ip:${clientAddressOf(request, { trustProxy })}`;
  return policy.by.map((dimension) => {
    switch (dimension) {
      case "address":
        return address();
      case "key":
        return credentialOf(request, options.apiKeyHeader ?? "x-api-key") ?? address();
      case "user": {
        const principal = principalOf(request);
        return principal ? `user:${principal.kind}:${principal.id}` : address();
      }
      case "route":
        return `route:${request.method} ${route}`;
    }
  }).join("|");
}

/** `"name";q=limit;w=window` items of `RateLimit-Policy`. */
function policyField(policies: readonly RateLimitPolicySetting[]): string {
  return policies.map((policy) => `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`).join(", ");
}

/** `"name";r=remaining;t=reset` items of `RateLimit`. */
function stateField(policies: readonly RateLimitPolicySetting[], decisions: readonly RateLimitDecision[]): string {
  return policies.map((policy, i) => `"${policy.name}";r=${decisions[i]!.remaining};t=${decisions[i]!.allowed ? decisions[i]!.resetSeconds : decisions[i]!.retryAfterSeconds}`).join(", ");
}

/** See the module doc. Mount it before the routes it limits. */
export function rateLimit(options: RateLimitOptions): Elysia {
  const basePath = options.basePath ?? "";
  // The hook names what it reads: a hook taking the whole context makes Elysia build all of it for every request.
  return new Elysia({ name: "chapkit-rate-limit" }).onBeforeHandle({ as: "global" }, async ({ request, set, route: matched }) => {
    const settings = options.settings();
    if (!settings.enabled) return;
    const path = servicePath(request, basePath);
    if (isHealthPath(path)) return;
    const policies = settings.policies.filter((policy) => !policy.routes || policy.routes.some((rule) => matchesRoute(rule, request.method, path)));
    if (policies.length === 0) return;
    const route = (matched as string | undefined) ?? path;
    let decisions: RateLimitDecision[];
    try {
      decisions = await Promise.all(policies.map((policy) =>
        options.store.consume(counterKey(policy, request, route, options, settings.trustProxy), policy)
      ));
    } catch (error) {
      // A rate limiter that is down must not take the service down with it.
      options.logger.warn("ratelimit.store_failed", { detail: error instanceof Error ? error.message : String(error) });
      return;
    }
    const headers = { "RateLimit-Policy": policyField(policies), "RateLimit": stateField(policies, decisions) };
    const refused = decisions.filter((decision) => !decision.allowed);
    if (refused.length > 0) {
      throw new RateLimitedError(Math.max(...refused.map((decision) => decision.retryAfterSeconds)), { headers });
    }
    Object.assign(set.headers, headers);
  });
}
