import { type AnyElysia, Elysia } from "elysia";
import type { ServiceContext, ServiceModule } from "../module.ts";
import { subscribables } from "./collections.ts";
import { subscribeRoutes } from "./subscribe-routes.ts";
import { rowVisibilityOf } from "./visibility.ts";
import { websocketRoute } from "./ws-route.ts";

/** Options of {@link realtimeModule}. */
export interface RealtimeOptions {
  /** Milliseconds between SSE heartbeat comments while no event is sent (default 15 000). */
  heartbeatMs?: number;
  /** Path of the WebSocket (default `/api/v1/$ws`). */
  websocketPath?: string;
}

/**
 * Realtime subscriptions to the event bus: `GET {collection}/$subscribe`
 * (server-sent events) for every collection a module declared subscribable,
 * and the WebSocket `/api/v1/$ws` with a JSON subscribe/unsubscribe protocol.
 * Events honour auth (the route's read permission) and row visibility.
 */
export function realtimeModule(options: RealtimeOptions = {}): ServiceModule {
  return {
    name: "realtime",
    routes(context: ServiceContext): AnyElysia {
      const shared = { bus: context.events, collections: subscribables(context), visibility: rowVisibilityOf(context) };
      return new Elysia({ name: "chapkit:realtime" })
        .use(subscribeRoutes({ ...shared, heartbeatMs: options.heartbeatMs ?? 15_000 }))
        .use(websocketRoute({ ...shared, ...(options.websocketPath ? { path: options.websocketPath } : {}) })) as unknown as AnyElysia;
    },
  };
}
