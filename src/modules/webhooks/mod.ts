/**
 * Outbound webhooks, a sink of the event bus: admin CRUD of webhooks (URL,
 * event types, collections, filter, secret), deliveries signed per Standard
 * Webhooks and sent through the durable job queue (retries with back-off)
 * and the outbound policy (timeouts, circuit breaker per origin), a delivery
 * log and replays. Needs the jobs module.
 *
 * @module
 */
import type { AnyElysia } from "elysia";
import type { JobBackoff, JobRunner } from "../jobs/types.ts";
import { OutboundPolicy, outboundOptions } from "../../core/resilient-fetch.ts";
import { outboundRegistryOf } from "../../http/health.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { WebhookDispatcher } from "./deliveries.ts";
import { WebhookManager } from "./manager.ts";
import { webhookRoutes } from "./routes.ts";
import { createDeliveryRepository, createWebhookRepository, WEBHOOKS_MIGRATIONS } from "./store.ts";

export { DELIVER_JOB, WebhookDispatcher } from "./deliveries.ts";
export type { WebhookDispatcherOptions } from "./deliveries.ts";
export { WebhookManager } from "./manager.ts";
export type { WebhookManagerOptions } from "./manager.ts";
export { signWebhook, verifyWebhook } from "./signature.ts";
export type { DeliveryRecord, DeliveryStatus, WebhookRecord } from "./schema.ts";
export { WEBHOOKS_PERMISSION } from "./routes.ts";

/** The key the webhooks module provides its {@link WebhookManager} under. */
export const WEBHOOKS_KEY = "webhooks";

/** Options of {@link webhooksModule}. */
export interface WebhooksModuleOptions {
  /** Path prefix (default `/api/v1/webhooks`). */
  prefix?: string;
  /** Attempts per delivery (default 8). */
  maxAttempts?: number;
  /** Back-off between attempts (default 1 s doubling, at most 1 h). */
  backoff?: JobBackoff;
  /** Milliseconds one POST may take (default 10 000). */
  timeoutMs?: number;
}

/**
 * The webhooks module (`withWebhooks()`): tables `webhooks` and
 * `webhook_deliveries`, the manager under `"webhooks"`, the delivery job
 * handler `webhooks.deliver` and the routes under `/api/v1/webhooks`.
 */
export function webhooksModule(options: WebhooksModuleOptions = {}): ServiceModule {
  let dispatcher: WebhookDispatcher | undefined;
  return {
    name: "webhooks",
    requires: ["jobs"],
    migrations: WEBHOOKS_MIGRATIONS,
    setup(context: ServiceContext): void {
      const repository = createWebhookRepository(context.db);
      const manager = new WebhookManager({ repository, events: { bus: context.events, collection: "webhooks" } });
      context.provide(WEBHOOKS_KEY, manager);
      // The queue retries; the policy adds the timeout and the breaker, not retries of its own.
      const policy = new OutboundPolicy(outboundOptions(context.settings.outbound, {
        retries: 0,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      }));
      outboundRegistryOf(context).add(policy);
      dispatcher = new WebhookDispatcher({
        db: context.db,
        bus: context.events,
        webhooks: repository,
        deliveries: createDeliveryRepository(context.db),
        jobs: context.get<JobRunner>("jobs"),
        policy,
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        logger: context.logger.child({ module: "webhooks" }),
      });
      dispatcher.start();
      context.provide("webhooks.dispatcher", dispatcher);
    },
    routes(context: ServiceContext): AnyElysia {
      return webhookRoutes({
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        manager: context.get<WebhookManager>(WEBHOOKS_KEY),
        deliveries: createDeliveryRepository(context.db),
        dispatcher: context.get<WebhookDispatcher>("webhooks.dispatcher"),
      });
    },
    stop(): void {
      dispatcher?.stop();
    },
  };
}
