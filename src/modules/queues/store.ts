import type { Migration } from "../../db/migration.ts";

/**
 * The receipts of consumed messages: one row per source and message id,
 * written in the transaction that enqueues the message's job, so a message
 * the broker delivers again (or to a second instance) makes no second job.
 */
export const QUEUES_MIGRATIONS: readonly Migration[] = [{
  module: "queues",
  version: 1,
  name: "queue receipts",
  up: "CREATE TABLE chapkit_queue_receipts (source TEXT NOT NULL, message_id TEXT NOT NULL, received_at TEXT NOT NULL, " +
    "job_id TEXT, error TEXT, PRIMARY KEY (source, message_id));\n" +
    "CREATE INDEX chapkit_queue_receipts_received_at ON chapkit_queue_receipts (received_at)",
  down: "DROP TABLE chapkit_queue_receipts",
}];
