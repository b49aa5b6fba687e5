import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { entityTableMigrations } from "../../db/table-migration.ts";
import { type DeliveryRecord, deliveriesTable, type WebhookRecord, webhooksTable } from "./schema.ts";

/** The migrations of the `webhooks` module: the webhooks and their deliveries. */
export const WEBHOOKS_MIGRATIONS: readonly Migration[] = [
  ...entityTableMigrations(webhooksTable, "webhooks"),
  ...entityTableMigrations(deliveriesTable, "webhook-deliveries"),
];

/** The repository of webhooks. */
export function createWebhookRepository(db: Driver): SqlRepository<WebhookRecord> {
  return createRepository<WebhookRecord>(db, webhooksTable);
}

/** The repository of deliveries. */
export function createDeliveryRepository(db: Driver): SqlRepository<DeliveryRecord> {
  return createRepository<DeliveryRecord>(db, deliveriesTable);
}
