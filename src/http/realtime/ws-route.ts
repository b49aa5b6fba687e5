import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, ForbiddenError, NotFoundError, toChapkitError, ValidationError } from "../../core/errors.ts";
import type { EventBus } from "../../core/events/bus.ts";
import { upgradeWebSocket } from "../../runtime/websocket.ts";
import { AUTHENTICATED, withPermission } from "../auth-guard-permissions.ts";
import { routeDetail } from "../route-doc.ts";
import type { SubscribableCollection } from "./collections.ts";
import { subscribeFrom, subscriptionSelector } from "./subscription.ts";
import { readPermission, type RowVisibility, viewerHolds, viewerOf } from "./visibility.ts";

/** Options of {@link websocketRoute}. */
export interface WebsocketRouteOptions {
  /** Path (default `/api/v1/$ws`). */
  path?: string;
  /** The service's bus. */
  bus: EventBus;
  /** The collections clients may subscribe to. */
  collections: readonly SubscribableCollection[];
  /** Row visibility. */
  visibility: RowVisibility;
  /** Subscriptions per connection at most (default 100). */
  maxSubscriptions?: number;
}

interface ClientMessage {
  type?: unknown;
  id?: unknown;
  collection?: unknown;
  filter?: unknown;
  types?: unknown;
  last_event_id?: unknown;
}

/** The handshake header the route needs, documented as a parameter. */
const UPGRADE_HEADER = { name: "upgrade", in: "header", required: true, schema: { type: "string", const: "websocket" }, example: "websocket" };

/**
 * `GET /api/v1/$ws`: a WebSocket speaking JSON. The client sends
 * `{"type": "subscribe", "id", "collection", "filter"?, "types"?, "last_event_id"?}`
 * and `{"type": "unsubscribe", "id"}`; the server answers `subscribed` /
 * `unsubscribed` with the id, `{"type": "event", "subscription": id, "event"}`
 * per matching event, and `{"type": "error", "id"?, "problem"}` (RFC 9457)
 * for a bad message, an unknown collection, a bad filter or a missing read
 * permission. Needs any valid credentials when auth is on; each subscription
 * needs its collection's read permission, and row visibility applies per event.
 */
export function websocketRoute(options: WebsocketRouteOptions): AnyElysia {
  const path = options.path ?? "/api/v1/$ws";
  const max = options.maxSubscriptions ?? 100;
  return new Elysia({ name: "chapkit:websocket" }).get(path, ({ request }) => {
    const viewer = viewerOf(request);
    const subscriptions = new Map<string, () => void>();
    const response = upgradeWebSocket(request, {
      open() {},
      message(socket, text) {
        const send = (message: unknown): void => socket.send(JSON.stringify(message));
        let message: ClientMessage;
        try {
          message = JSON.parse(text) as ClientMessage;
          if (message === null || typeof message !== "object" || Array.isArray(message)) throw new Error();
        } catch {
          send({ type: "error", problem: new BadRequestError("Messages are JSON objects").toProblem(path) });
          return;
        }
        const id = typeof message.id === "string" && message.id !== "" ? message.id : undefined;
        const fail = (error: unknown): void =>
          send({ type: "error", ...(id === undefined ? {} : { id }), problem: toChapkitError(error).toProblem(path) });
        try {
          if (id === undefined) throw new ValidationError([{ loc: ["id"], msg: "A non-empty string id is required", type: "missing" }]);
          if (message.type === "unsubscribe") {
            subscriptions.get(id)?.();
            subscriptions.delete(id);
            send({ type: "unsubscribed", id });
            return;
          }
          if (message.type !== "subscribe") throw new ValidationError([{ loc: ["type"], msg: "Expected subscribe or unsubscribe", type: "enum" }]);
          if (subscriptions.has(id)) throw new ValidationError([{ loc: ["id"], msg: `Subscription ${id} exists`, type: "value_error" }]);
          if (subscriptions.size >= max) throw new ValidationError([{ loc: ["id"], msg: `At most ${max} subscriptions per connection`, type: "too_long" }]);
          const collection = options.collections.find((entry) => entry.collection === message.collection);
          if (!collection) throw new NotFoundError(`No subscribable collection ${JSON.stringify(message.collection)}`);
          const permission = readPermission(collection);
          if (!viewerHolds(viewer, permission)) throw new ForbiddenError(`Permission ${permission} required`);
          const types = Array.isArray(message.types) ? message.types.filter((t): t is string => typeof t === "string") : undefined;
          const selector = subscriptionSelector({
            collection,
            filter: typeof message.filter === "string" ? message.filter : undefined,
            types,
            viewer,
          }, options.visibility);
          subscriptions.set(id, () => {});
          subscribeFrom(options.bus, selector, typeof message.last_event_id === "string" ? message.last_event_id : undefined, (event) => {
            send({ type: "event", subscription: id, event });
          }).then((stop) => {
            if (subscriptions.has(id)) subscriptions.set(id, stop);
            else stop();
          });
          send({ type: "subscribed", id });
        } catch (error) {
          fail(error);
        }
      },
      close() {
        for (const stop of subscriptions.values()) stop();
        subscriptions.clear();
      },
    });
    if (!response) throw new BadRequestError("Expected a WebSocket handshake (Upgrade: websocket) on a served socket");
    return response;
  }, {
    detail: withPermission({ ...routeDetail({
      summary: "Realtime WebSocket",
      description: "JSON protocol: send `{\"type\":\"subscribe\",\"id\",\"collection\",\"filter\"?,\"types\"?,\"last_event_id\"?}` " +
        "or `{\"type\":\"unsubscribe\",\"id\"}`; receive `subscribed`, `unsubscribed`, " +
        "`{\"type\":\"event\",\"subscription\",\"event\"}` and `{\"type\":\"error\",\"id\"?,\"problem\"}`.",
      tags: ["realtime"],
    }), parameters: [UPGRADE_HEADER] }, AUTHENTICATED),
  }) as unknown as AnyElysia;
}
