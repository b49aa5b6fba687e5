/**
 * Read replicas of a service (`DATABASE_REPLICA_URLS`): the primary wrapped
 * by `src/db/replicas.ts`, every HTTP request served in a read scope keyed by
 * its client, and a `database_replicas` health check.
 */
import type { AnyElysia } from "elysia";
import type { Settings } from "../core/settings/schema.ts";
import type { Driver } from "../db/driver.ts";
import { openDatabase } from "../db/open.ts";
import type { ReplicatedDriver } from "../db/replicas.ts";
import type { HealthCheck } from "../http/module.ts";
import { clientAddressOf } from "../runtime/client-address.ts";
import { ConfigurationError } from "./configuration-error.ts";

let hashing: typeof import("node:crypto") | undefined;

/** The service-context key of the {@link ReplicatedDriver}, when the service has replicas. */
export const REPLICAS_KEY = "chapkit.db.replicas";

/**
 * Wraps the primary with the configured replicas, or answers null when there
 * are none (the replica code then never loads).
 */
export async function withReadReplicas(primary: Driver, store: Settings["database"]): Promise<ReplicatedDriver | null> {
  if (store.replicaUrls.length === 0) return null;
  if (primary.dialect !== "postgres") {
    await primary.close();
    throw new ConfigurationError("DATABASE_REPLICA_URLS (database.replicaUrls) needs a PostgreSQL primary: set DATABASE_URL to postgres://…");
  }
  const bad = store.replicaUrls.find((url) => !/^postgres(ql)?:\/\//.test(url));
  if (bad !== undefined) {
    await primary.close();
    throw new ConfigurationError("DATABASE_REPLICA_URLS (database.replicaUrls) takes postgres://… URLs, comma-separated");
  }
  const { replicated } = await import("../db/replicas.ts");
  // node:crypto costs start-up time: only a service with replicas hashes its clients.
  hashing ??= await import("node:crypto");
  return replicated(primary, store.replicaUrls, {
    stickyMs: store.replicaStickyMs,
    healthIntervalMs: store.replicaCheckMs,
    maxLagMs: store.replicaMaxLagMs,
    // A replica that is down at start-up does not hold the service back: the health check opens it later.
    open: (url) => openDatabase(url, { postgres: { connectRetries: 0, connectTimeoutSeconds: 2, breaker: { failureThreshold: store.breakerThreshold, probeIntervalMs: store.breakerProbeMs } } }),
  });
}

/** Who a request comes from, for read-your-writes: its credentials when it carries any, else its address. */
function clientOf(request: Request, trustProxy: boolean): string {
  const credential = request.headers.get("authorization") ?? request.headers.get("x-api-key") ?? request.headers.get("cookie");
  if (credential && hashing) return hashing.createHash("sha256").update(credential).digest("base64url").slice(0, 22);
  return clientAddressOf(request, { trustProxy });
}

/** Serves every request of `app` in a read scope of its client (outermost, so the whole request runs in it). */
export function scopeRequests(app: AnyElysia, replicas: ReplicatedDriver, trustProxy: () => boolean): void {
  const served = app.fetch as (request: Request) => Promise<Response>;
  const scoped = (request: Request): Promise<Response> => replicas.readScope(clientOf(request, trustProxy()), () => served(request));
  Object.defineProperty(app, "fetch", { value: scoped, configurable: true, writable: true });
}

/** `database_replicas`: degraded while a replica gets no reads (they go to the primary), naming why. */
export function replicaCheck(replicas: ReplicatedDriver): HealthCheck {
  return {
    name: "database_replicas",
    check() {
      const down = replicas.replicaStatus().filter((replica) => !replica.healthy);
      if (down.length === 0) return { state: "healthy" };
      return {
        state: "degraded",
        message: `Reads go to the primary instead of ${down.map((replica) => `${replica.url} (${replica.reason ?? "unhealthy"})`).join(", ")}`,
      };
    },
  };
}
