import { type TObject, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { entityInputSchema, entityOutputSchema } from "../../core/schema.ts";

/** A stored webhook subscription. */
export interface WebhookRecord extends EntityRecord {
  /** Where deliveries are POSTed (http or https). */
  url: string;
  /** Event types delivered (`entity.created`, `job.*`); empty: every type. */
  event_types: string[];
  /** Collections delivered (`configs`, `jobs`); empty: every collection. */
  collections: string[];
  /** A filter expression over the entity (the list grammar), or null. */
  filter: string | null;
  /** The Standard Webhooks secret, `whsec_<base64>`; never answered. */
  secret: string;
  /** Off: nothing is delivered. */
  enabled: boolean;
  /** What the webhook is for. */
  description: string | null;
}

/** The `webhooks` table. */
export const webhooksTable: TableDefinition = defineTable({
  name: "webhooks",
  columns: {
    url: { type: "text" },
    event_types: { type: "json" },
    collections: { type: "json" },
    filter: { type: "text", nullable: true },
    secret: { type: "text" },
    enabled: { type: "boolean" },
    description: { type: "text", nullable: true },
  },
});

/** Where a delivery is. */
export type DeliveryStatus = "pending" | "retrying" | "succeeded" | "failed";

/** One event's delivery to one webhook, with its attempts. */
export interface DeliveryRecord extends EntityRecord {
  /** The webhook. */
  webhook_id: string;
  /** The event delivered (also the `webhook-id` header). */
  event_id: string;
  /** Its type. */
  event_type: string;
  /** The exact body sent, Standard Webhooks JSON. */
  payload: string;
  /** Where it is. */
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** The last answer's status, or null when none came. */
  response_code: number | null;
  /** Why the last attempt failed, or null. */
  last_error: string | null;
  /** The job that sends it. */
  job_id: string | null;
}

/** The `webhook_deliveries` table (one delivery per webhook and event). */
export const deliveriesTable: TableDefinition = defineTable({
  name: "webhook_deliveries",
  columns: {
    webhook_id: { type: "ulid", references: { table: "webhooks", onDelete: "cascade" } },
    event_id: { type: "text" },
    event_type: { type: "text" },
    payload: { type: "text" },
    status: { type: "text" },
    attempts: { type: "integer" },
    response_code: { type: "integer", nullable: true },
    last_error: { type: "text", nullable: true },
    job_id: { type: "text", nullable: true },
  },
  indexes: [{ columns: ["webhook_id", "event_id"], unique: true }],
});

const Strings = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 });
const NullableText = Type.Union([Type.String(), Type.Null()]);

/** Create and update body of a webhook. */
export const WebhookInSchema: TObject = entityInputSchema("WebhookIn", {
  url: Type.String({ minLength: 1, maxLength: 2000, description: "http(s) URL the deliveries are POSTed to" }),
  event_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
    maxItems: 100,
    description: "Event types (`entity.created`, `job.*`); empty or absent: every type",
  })),
  collections: Type.Optional({ ...Strings, description: "Collections (`configs`, `jobs`); empty or absent: every collection" }),
  filter: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()], {
    description: 'Filter expression over the entity, e.g. `name ~ "prod"`',
  })),
  secret: Type.String({ pattern: "^whsec_[A-Za-z0-9+/]+={0,2}$", description: "Standard Webhooks secret: `whsec_` + base64 of 24 to 64 random bytes" }),
  enabled: Type.Optional(Type.Boolean({ description: "Off delivers nothing (default true)" })),
  description: Type.Optional(NullableText),
});

/** A webhook as answered (the secret is never answered). */
export const WebhookOutSchema: TObject = entityOutputSchema("WebhookOut", {
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  collections: Type.Array(Type.String()),
  filter: NullableText,
  enabled: Type.Boolean(),
  description: NullableText,
});

/** A delivery as answered. */
export const DeliveryOutSchema: TObject = entityOutputSchema("WebhookDelivery", {
  webhook_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal("pending"), Type.Literal("retrying"), Type.Literal("succeeded"), Type.Literal("failed")]),
  attempts: Type.Integer(),
  response_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: NullableText,
});
