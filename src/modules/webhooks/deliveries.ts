import { Type } from "@sinclair/typebox";
import { NotFoundError } from "../../core/errors.ts";
import type { EventBus, Unsubscribe } from "../../core/events/bus.ts";
import type { EventSelector, ServiceEvent } from "../../core/events/types.ts";
import { parseFilter } from "../../core/query/filter-parse.ts";
import type { Logger } from "../../core/logging.ts";
import type { OutboundPolicy } from "../../core/resilient-fetch.ts";
import { newUlid } from "../../core/ulid.ts";
import type { Driver } from "../../db/driver.ts";
import type { SqlRepository } from "../../db/repository.ts";
import type { JobBackoff, JobHandlerContext, JobRunner } from "../jobs/types.ts";
import { signWebhook } from "./signature.ts";
import type { DeliveryRecord, WebhookRecord } from "./schema.ts";

/** The job handler name that sends one delivery. */
export const DELIVER_JOB = "webhooks.deliver";

/** How a {@link WebhookDispatcher} is made. */
export interface WebhookDispatcherOptions {
  /** The store (for the delivery insert that claims an event once). */
  db: Driver;
  /** The service's bus. */
  bus: EventBus;
  /** Where subscriptions are read: each committed event is matched against their filters. */
  webhooks: SqlRepository<WebhookRecord>;
  /** Where each delivery and its attempts are recorded, for the deliveries routes and replays. */
  deliveries: SqlRepository<DeliveryRecord>;
  /** The job queue. */
  jobs: JobRunner;
  /** The outbound policy (timeouts, circuit breaker per origin). */
  policy: OutboundPolicy;
  /** Attempts per delivery (default 8). */
  maxAttempts?: number;
  /** Back-off between attempts (default 1 s doubling to 1 h). */
  backoff?: JobBackoff;
  /** Where failures are reported. */
  logger?: Logger;
}

interface ActiveWebhook {
  record: WebhookRecord;
  selector: EventSelector;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns events into deliveries: each event this instance published that an
 * enabled webhook selects becomes one delivery row (unique per webhook and
 * event) and one job that POSTs the Standard Webhooks body, signed, through
 * the outbound policy; a failed attempt is retried by the queue with
 * back-off, and the row keeps status, attempts and the last response code.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  #active: Promise<ActiveWebhook[]> | null = null;
  #unsubscribe: Unsubscribe[] = [];
  readonly #maxAttempts: number;

  /** Creates the dispatcher; {@link WebhookDispatcher.start} registers the job handler and subscribes. */
  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? 8;
  }

  /** Registers the delivery job handler and starts turning events into deliveries. */
  start(): void {
    const { bus, jobs } = this.#options;
    jobs.register(DELIVER_JOB, {
      payload: Type.Object({ delivery_id: Type.String() }),
      maxAttempts: this.#maxAttempts,
      backoff: this.#options.backoff ?? { delay_ms: 1000, factor: 2, max_ms: 3_600_000 },
      run: (payload: { delivery_id: string }, context: JobHandlerContext) => this.deliver(payload.delivery_id, context),
    });
    // Any instance's webhook change reloads the list here.
    this.#unsubscribe.push(bus.subscribe({ collections: ["webhooks"] }, () => {
      this.#active = null;
    }));
    this.#unsubscribe.push(bus.subscribe({ local: true }, (event) => {
      this.#enqueueFor(event).catch((error: unknown) => {
        this.#options.logger?.error("webhooks.enqueue_failed", { error, event_id: event.id });
      });
    }));
  }

  /** Stops turning events into deliveries (queued deliveries stay queued). */
  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
  }

  async #webhooks(): Promise<ActiveWebhook[]> {
    this.#active ??= this.#options.webhooks.findMany({ filter: { kind: "compare", field: "enabled", op: "eq", value: true } })
      .then((records) =>
        records.map((record) => ({
          record,
          selector: {
            ...(record.event_types.length > 0 && !record.event_types.includes("*") ? { types: record.event_types } : {}),
            ...(record.collections.length > 0 ? { collections: record.collections } : {}),
            ...(record.filter ? { filter: parseFilter(record.filter) } : {}),
          },
        }))
      );
    try {
      return await this.#active;
    } catch (error) {
      this.#active = null;
      throw error;
    }
  }

  async #enqueueFor(event: ServiceEvent): Promise<void> {
    if (event.data.collection === "webhooks") return;
    for (const { record, selector } of await this.#webhooks()) {
      if (!(await this.#options.bus.accepts(selector, event))) continue;
      const { type, timestamp, data } = event;
      const delivery = await this.#claim(record.id, event, JSON.stringify({ type, timestamp, data }));
      if (delivery) await this.#enqueue(delivery);
    }
  }

  /** Inserts the delivery of this event to this webhook; null when one exists (another instance made it). */
  async #claim(webhookId: string, event: ServiceEvent, payload: string): Promise<string | null> {
    const id = newUlid();
    const now = new Date().toISOString();
    const { changes } = await this.#options.db.exec(
      `INSERT INTO "webhook_deliveries" ("id", "created_at", "updated_at", "webhook_id", "event_id", "event_type", "payload", "status", "attempts") ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0) ON CONFLICT ("webhook_id", "event_id") DO NOTHING`,
      [id, now, now, webhookId, event.id, event.type, payload],
    );
    return changes > 0 ? id : null;
  }

  async #enqueue(deliveryId: string): Promise<void> {
    const { record } = await this.#options.jobs.enqueue(DELIVER_JOB, { delivery_id: deliveryId });
    await this.#options.deliveries.update(deliveryId, { job_id: record.id });
  }

  /** Sends a delivery again (a replay): back to `pending`, on the queue with fresh attempts. @throws {NotFoundError} */
  async replay(webhookId: string, deliveryId: string): Promise<DeliveryRecord> {
    const delivery = await this.#options.deliveries.findById(deliveryId);
    if (!delivery || delivery.webhook_id !== webhookId) throw new NotFoundError(`Delivery ${deliveryId} of webhook ${webhookId} not found`);
    await this.#options.deliveries.update(deliveryId, { status: "pending" });
    await this.#enqueue(deliveryId);
    return (await this.#options.deliveries.findById(deliveryId))!;
  }

  /**
   * One attempt of a delivery (the job handler): POSTs the body with the
   * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers. A 2xx
   * answer succeeds; anything else throws so the queue retries, until the
   * last attempt marks the delivery `failed`.
   */
  async deliver(deliveryId: string, context: Pick<JobHandlerContext, "attempt" | "signal">): Promise<void> {
    const { deliveries, webhooks, policy } = this.#options;
    const delivery = await deliveries.findById(deliveryId);
    if (!delivery) return;
    const webhook = await webhooks.findById(delivery.webhook_id);
    if (!webhook || !webhook.enabled) {
      await deliveries.update(deliveryId, { status: "failed", last_error: webhook ? "Webhook disabled" : "Webhook deleted" });
      return;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    let code: number | null = null;
    let error: string | null = null;
    try {
      const response = await policy.fetch(webhook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": delivery.event_id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signWebhook(webhook.secret, delivery.event_id, timestamp, delivery.payload),
        },
        body: delivery.payload,
        signal: context.signal,
      });
      code = response.status;
      await response.body?.cancel().catch(() => {});
      if (!response.ok) error = `Answered ${response.status}`;
    } catch (cause) {
      error = messageOf(cause);
    }
    const last = context.attempt >= this.#maxAttempts;
    await deliveries.update(deliveryId, {
      status: error === null ? "succeeded" : last ? "failed" : "retrying",
      attempts: delivery.attempts + 1,
      response_code: code,
      last_error: error,
    });
    if (error !== null) throw new Error(`Webhook delivery ${deliveryId} failed: ${error}`);
  }
}
