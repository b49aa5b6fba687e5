import { type AnyElysia, Elysia } from "elysia";
import type { ServiceContext, ServiceModule } from "../module.ts";
import { subscribables } from "./collections.ts";
import { subscribeRoutes } from "./subscribe-routes.ts";
import { rowVisibilityOf } from "./visibility.ts";

/** Options of {@link realtimeModule}. */
export interface RealtimeOptions {
  /** Milliseconds between SSE heartbeat comments while no event is sent (default 15 000). */
  heartbeatMs?: number;
}

/**
 * Realtime subscriptions to the event bus: `GET {collection}/$subscribe`
 * (server-sent events) for every collection a module declared subscribable.
 * Events honour auth (the route's read permission) and row visibility.
 */
export function realtimeModule(options: RealtimeOptions = {}): ServiceModule {
  return {
    name: "realtime",
    routes(context: ServiceContext): AnyElysia {
      return new Elysia({ name: "chapkit:realtime" }).use(subscribeRoutes({
        bus: context.events,
        collections: subscribables(context),
        visibility: rowVisibilityOf(context),
        heartbeatMs: options.heartbeatMs ?? 15_000,
      })) as unknown as AnyElysia;
    },
  };
}
