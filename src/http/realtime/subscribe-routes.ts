import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { EventBus } from "../../core/events/bus.ts";
import { routeDetail } from "../route-doc.ts";
import { sseResponse } from "../sse.ts";
import type { SubscribableCollection } from "./collections.ts";
import { subscribeFrom, subscriptionSelector } from "./subscription.ts";
import { type RowVisibility, viewerOf } from "./visibility.ts";

/** Options of {@link subscribeRoutes}. */
export interface SubscribeRoutesOptions {
  /** The service's bus. */
  bus: EventBus;
  /** The collections to serve `{prefix}/$subscribe` for. */
  collections: readonly SubscribableCollection[];
  /** Row visibility (default: the collection's read permission). */
  visibility: RowVisibility;
  /** Milliseconds between heartbeat comments while no event is sent. */
  heartbeatMs: number;
}

const SubscribeQuery = Type.Object({
  filter: Type.Optional(Type.String({ description: "Filter expression over the entity, as in list queries", examples: ['id = "01K79YAHJ7BR4E87VVTG8FNBMA"'] })),
  types: Type.Optional(Type.String({
    description: "Comma-separated event types, e.g. `entity.created,entity.updated` (default all)",
    examples: ["entity.created,entity.updated"],
  })),
  last_event_id: Type.Optional(Type.String({ description: "Resume after this event id (for clients that cannot send `Last-Event-ID`)" })),
});

function one(value: unknown): string | undefined {
  return typeof value === "string" ? value : Array.isArray(value) && typeof value.at(-1) === "string" ? value.at(-1) : undefined;
}

/**
 * `GET {prefix}/$subscribe` for every collection: a `text/event-stream` of
 * the collection's events that match `filter` and `types` and that the
 * caller may see, each with `id:` (its event id) and the event as JSON
 * `data:`; heartbeat comments keep idle connections open. `Last-Event-ID`
 * (or `last_event_id`) resumes from the replay buffer.
 */
export function subscribeRoutes(options: SubscribeRoutesOptions): AnyElysia {
  const app = new Elysia({ name: "chapkit:subscribe-routes" });
  for (const collection of options.collections) {
    app.get(`${collection.prefix}/$subscribe`, async ({ query, request }) => {
      const q = query as Record<string, unknown>;
      const types = one(q.types)?.split(",").map((type) => type.trim()).filter((type) => type !== "");
      const selector = subscriptionSelector({ collection, filter: one(q.filter), types, viewer: viewerOf(request) }, options.visibility);
      const lastEventId = request.headers.get("last-event-id") ?? one(q.last_event_id);
      return sseResponse(async (sink) => {
        const stop = await subscribeFrom(options.bus, selector, lastEventId ?? undefined, (event) => {
          sink.send({ id: event.id, data: event });
        });
        // Sent once the subscription holds: the headers reach the client now (EventSource fires
        // `open`), and every event committed after this line is delivered.
        sink.comment("subscribed");
        await new Promise<void>((resolve) => {
          if (sink.signal.aborted) resolve();
          else sink.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        stop();
      }, { signal: request.signal, heartbeatMs: options.heartbeatMs });
    }, {
      detail: routeDetail({
        summary: `Subscribe to ${collection.collection} events`,
        description: "Server-sent events of committed changes (`entity.created`, `entity.updated`, `entity.deleted`…): " +
          "each event's `id:` is its event id and its `data:` the event as JSON " +
          "(`{\"id\", \"type\", \"timestamp\", \"data\": {\"collection\", \"id\", \"entity\"}}`). " +
          "`filter` selects by the entity's fields; `Last-Event-ID` resumes from the replay buffer.",
        tags: ["realtime"],
        query: SubscribeQuery,
        responseType: "text/event-stream",
        response: Type.String({
          description: "`id:` and `data:` per event; `: heartbeat` comments",
          examples: [
            `id: 01K79YAHJ7BR4E87VVTG8FNBMB\ndata: {"id":"01K79YAHJ7BR4E87VVTG8FNBMB","type":"entity.created",` +
            `"timestamp":"2026-01-01T00:00:00.000Z","data":{"collection":"${collection.collection}","id":"01K79YAHJ7BR4E87VVTG8FNBMA","entity":{"id":"01K79YAHJ7BR4E87VVTG8FNBMA"}}}\n\n`,
          ],
        }),
      }),
    });
  }
  return app as unknown as AnyElysia;
}
