/**
 * Two services talking to each other: an orders service tells a warehouse
 * service about each new order through a signed webhook (Standard Webhooks,
 * delivered through the orders service's durable job queue with retries);
 * the warehouse checks the signature and the timestamp, ignores a delivery it
 * has already handled, reads the full order back from the orders service
 * through an outbound policy (timeout, retries, circuit breaker) and records a
 * shipment.
 *
 *   bun examples/two_services.ts      orders on PORT (default 8000), warehouse on PORT + 1
 *   curl -s localhost:8000/api/v1/orders -H 'content-type: application/json' -d '{"customer":"ada","items":["tea"]}'
 *   curl -s localhost:8001/api/v1/shipments
 */
import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import {
  defineEntity,
  entityKey,
  entityManagerOf,
  OutboundPolicy,
  rawJsonBody,
  ServiceBuilder,
  type ServiceContext,
  UnauthorizedError,
  verifyWebhook,
  type WebhookManager,
} from "chapkit";

/** An order of the orders service. */
export const Order = defineEntity({
  table: "orders",
  fields: { customer: Type.String({ minLength: 1 }), items: Type.Array(Type.String(), { minItems: 1 }) },
});

/** A shipment of the warehouse service; `delivery` is the webhook id that caused it (unique: handled once). */
export const Shipment = defineEntity({
  table: "shipments",
  fields: {
    order_id: Type.String(),
    customer: Type.String(),
    items: Type.Array(Type.String()),
    delivery: Type.String(),
  },
  indexes: [{ columns: ["delivery"], unique: true }],
});

/** The orders service: every new order is posted, signed, to `webhookUrl`. */
export function createOrders(databaseUrl: string, webhookUrl: string, secret: string): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "Orders" }, databaseUrl })
    .withHealth()
    .withEntity(Order)
    .withJobs()
    .withWebhooks({ backoff: { delay_ms: 200, max_ms: 5_000 } })
    .onStartup(async (context) => {
      const webhooks = context.get<WebhookManager>("webhooks");
      const [existing] = await webhooks.list({ filter: { kind: "compare", field: "url", op: "eq", value: webhookUrl } });
      const webhook = { url: webhookUrl, event_types: ["entity.created"], collections: ["orders"], secret };
      if (existing) await webhooks.update(existing.id as string, webhook);
      else await webhooks.create(webhook);
    });
}

/** Deliveries older than this are refused (Standard Webhooks' replay window). */
const TOLERANCE_SECONDS = 300;

/** The warehouse service: receives order webhooks at `POST /api/v1/inbox` and reads orders back from `ordersUrl`. */
export function createWarehouse(databaseUrl: string, ordersUrl: string, secret: string): ServiceBuilder {
  const orders = new OutboundPolicy({ timeoutMs: 2_000, retries: 2, backoffMs: 100 });
  const inbox = (context: ServiceContext): AnyElysia => {
    const shipments = entityManagerOf(context, Shipment);
    return new Elysia().post("/api/v1/inbox", async ({ request, set }) => {
      const body = rawJsonBody(request) ?? "";
      const age = Math.abs(Date.now() / 1000 - Number(request.headers.get("webhook-timestamp")));
      if (!verifyWebhook(secret, request.headers, body) || !(age <= TOLERANCE_SECONDS)) {
        throw new UnauthorizedError("Bad or stale webhook signature");
      }
      const delivery = request.headers.get("webhook-id")!;
      const [seen] = await shipments.list({ filter: { kind: "compare", field: "delivery", op: "eq", value: delivery } });
      if (seen) return seen; // a redelivery: handled already
      const event = JSON.parse(body) as { data: { id: string } };
      // The event carries the order; reading it back shows a resilient call to the other service.
      const response = await orders.fetch(`${ordersUrl}/api/v1/orders/${event.data.id}`);
      const order = await response.json() as { id: string; customer: string; items: string[] };
      set.status = 201;
      return await shipments.create({ order_id: order.id, customer: order.customer, items: order.items, delivery });
    }, { detail: { tags: ["inbox"], summary: "Order webhooks (Standard Webhooks, signed)" } });
  };
  return new ServiceBuilder({ info: { display_name: "Warehouse" }, databaseUrl })
    .withHealth()
    .withEntity(Shipment)
    .module({ name: "inbox", requires: [entityKey(Shipment)], routes: inbox });
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const port = Number(env.PORT ?? 8000);
  const secret = env.WEBHOOK_SECRET ?? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  await createWarehouse("sqlite:./warehouse.db", `http://127.0.0.1:${port}`, secret).listen(port + 1);
  await createOrders("sqlite:./orders.db", `http://127.0.0.1:${port + 1}/api/v1/inbox`, secret).listen(port);
}
