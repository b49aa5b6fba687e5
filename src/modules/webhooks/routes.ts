import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError } from "../../core/errors.ts";
import type { SqlRepository } from "../../db/repository.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import { crudRouter } from "../../http/crud/crud-router.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { WebhookDispatcher } from "./deliveries.ts";
import type { WebhookManager } from "./manager.ts";
import { type DeliveryRecord, DeliveryOutSchema } from "./schema.ts";

/** The permission every webhook route needs under auth. */
export const WEBHOOKS_PERMISSION = "webhooks:admin";

/** What {@link webhookRoutes} serves. */
export interface WebhookRoutesOptions {
  /** Path prefix (default `/api/v1/webhooks`). */
  prefix?: string;
  /** Creates, updates and deletes subscriptions; their signing secrets are write-only. */
  manager: WebhookManager;
  /** Read by `GET /{id}/deliveries`; rows are never changed by the routes. */
  deliveries: SqlRepository<DeliveryRecord>;
  /** Replays deliveries. */
  dispatcher: WebhookDispatcher;
}

function deliveryOut(record: DeliveryRecord): Record<string, unknown> {
  const { payload: _payload, job_id: _job, ...out } = record;
  return out;
}

/**
 * Admin-only webhook routes: CRUD under `/api/v1/webhooks`, the delivery
 * log `GET {prefix}/{id}/deliveries` (newest first) and
 * `POST {prefix}/{id}/deliveries/{delivery_id}/$replay`.
 */
export function webhookRoutes(options: WebhookRoutesOptions): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/webhooks";
  const tags = ["webhooks"];
  const crud = crudRouter({
    prefix,
    manager: options.manager,
    tags,
    entityName: "webhook",
    access: { read: WEBHOOKS_PERMISSION, write: WEBHOOKS_PERMISSION },
  });
  const known = async (id: string): Promise<void> => {
    if (!(await options.manager.repository.exists(id))) throw new NotFoundError(`Webhook ${id} not found`);
  };
  return new Elysia({ name: "chapkit:webhooks" })
    .use(crud)
    .get(`${prefix}/:entity_id/deliveries`, async ({ params }) => {
      await known(params.entity_id);
      const rows = await options.deliveries.findMany({
        filter: { kind: "compare", field: "webhook_id", op: "eq", value: params.entity_id },
        sort: [{ field: "created_at", direction: "desc" }],
        limit: 1000,
      });
      return rows.map(deliveryOut);
    }, {
      detail: withPermission(routeDetail({
        summary: "List a webhook's deliveries",
        description: "The newest 1000 deliveries: event, status (`pending`, `retrying`, `succeeded`, `failed`), attempts and the last response code.",
        tags,
        response: Type.Array(DeliveryOutSchema),
      }), WEBHOOKS_PERMISSION),
    })
    .post(`${prefix}/:entity_id/deliveries/:delivery_id/$replay`, async ({ params, set }) => {
      await known(params.entity_id);
      set.status = 202;
      return deliveryOut(await options.dispatcher.replay(params.entity_id, params.delivery_id));
    }, {
      detail: withPermission(routeDetail({
        summary: "Replay a delivery",
        description: "Sends the delivery again (same `webhook-id`, new timestamp and signature) through the job queue with fresh attempts.",
        tags,
        status: 202,
        response: DeliveryOutSchema,
      }), WEBHOOKS_PERMISSION),
    }) as unknown as AnyElysia;
}
