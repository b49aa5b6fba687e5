import {
  type TArray,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type TNull,
  type TOptional,
  type TString,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import type { TableDefinition } from "../../core/entity.ts";
import {
  defineEntity,
  type EntityDefinition,
  type EntityRecordOf,
  field,
  type StoredField,
  type UnansweredField,
} from "../../core/entity-definition.ts";
import { UlidSchema } from "../../core/schema.ts";

type NullableText = TUnion<[TString, TNull]>;
const NullableText = (): NullableText => Type.Union([Type.String(), Type.Null()]);
const Strings = (description: string): TArray<TString> =>
  Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, description });

type WebhookFields = {
  url: TString;
  event_types: StoredField<TOptional<TArray<TString>>>;
  collections: StoredField<TOptional<TArray<TString>>>;
  filter: TOptional<NullableText>;
  secret: UnansweredField<TString>;
  enabled: StoredField<TOptional<TBoolean>>;
  description: TOptional<NullableText>;
};

/**
 * The webhook subscription, defined once: the `webhooks` table, `WebhookIn`
 * and `WebhookOut`. The secret is accepted and stored but never answered;
 * `event_types`, `collections` and `enabled` are optional on input and always
 * stored (the manager fills `[]`, `[]` and `true`).
 */
export const Webhook: EntityDefinition<WebhookFields, "webhooks"> = defineEntity({
  table: "webhooks",
  name: "Webhook",
  fields: {
    url: Type.String({ minLength: 1, maxLength: 2000, description: "http(s) URL the deliveries are POSTed to" }),
    event_types: field(Type.Optional(Strings("Event types (`entity.created`, `job.*`); empty or absent: every type")), { nullable: false }),
    collections: field(Type.Optional(Strings("Collections (`configs`, `jobs`); empty or absent: every collection")), { nullable: false }),
    filter: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()], {
      description: 'Filter expression over the entity, e.g. `name ~ "prod"`',
    })),
    secret: field(Type.String({
      pattern: "^whsec_[A-Za-z0-9+/]+={0,2}$",
      description: "Standard Webhooks secret: `whsec_` + base64 of 24 to 64 random bytes",
    }), { output: false }),
    enabled: field(Type.Optional(Type.Boolean({ description: "Off delivers nothing (default true)" })), { nullable: false }),
    description: Type.Optional(NullableText()),
  },
});

/** A stored webhook subscription (`secret`, `whsec_<base64>`, included: it is never answered). */
export type WebhookRecord = EntityRecordOf<typeof Webhook>;

/** The `webhooks` table. */
export const webhooksTable: TableDefinition = Webhook.table;

/** Where a delivery is. */
export type DeliveryStatus = "pending" | "retrying" | "succeeded" | "failed";

type DeliveryFields = {
  webhook_id: TString;
  event_id: TString;
  event_type: TString;
  payload: UnansweredField<TString>;
  status: TUnion<[TLiteral<"pending">, TLiteral<"retrying">, TLiteral<"succeeded">, TLiteral<"failed">]>;
  attempts: TInteger;
  response_code: TUnion<[TInteger, TNull]>;
  last_error: NullableText;
  job_id: UnansweredField<NullableText>;
};

/**
 * One event's delivery to one webhook, with its attempts, defined once: the
 * `webhook_deliveries` table (one delivery per webhook and event) and the
 * `WebhookDelivery` schema. The body sent and the sending job are stored, not answered.
 */
export const WebhookDelivery: EntityDefinition<DeliveryFields, "webhook_deliveries"> = defineEntity({
  table: "webhook_deliveries",
  name: "WebhookDelivery",
  titles: { output: "WebhookDelivery" },
  fields: {
    webhook_id: field(UlidSchema, { references: { table: "webhooks", onDelete: "cascade" } }),
    event_id: Type.String({ description: "The event delivered (also the `webhook-id` header)" }),
    event_type: Type.String(),
    payload: field(Type.String({ description: "The exact body sent, Standard Webhooks JSON" }), { output: false }),
    status: Type.Union([Type.Literal("pending"), Type.Literal("retrying"), Type.Literal("succeeded"), Type.Literal("failed")]),
    attempts: Type.Integer({ description: "Attempts made so far" }),
    response_code: Type.Union([Type.Integer(), Type.Null()], { description: "The last answer's status, or null when none came" }),
    last_error: Type.Union([Type.String(), Type.Null()], { description: "Why the last attempt failed, or null" }),
    job_id: field(NullableText(), { output: false }),
  },
  indexes: [{ columns: ["webhook_id", "event_id"], unique: true }],
});

/** One event's delivery to one webhook, as stored. */
export type DeliveryRecord = EntityRecordOf<typeof WebhookDelivery>;

/** The `webhook_deliveries` table. */
export const deliveriesTable: TableDefinition = WebhookDelivery.table;

/** Create and update body of a webhook. */
export const WebhookInSchema: typeof Webhook.input = Webhook.input;

/** A webhook as answered (the secret is never answered). */
export const WebhookOutSchema: typeof Webhook.output = Webhook.output;

/** A delivery as answered. */
export const DeliveryOutSchema: typeof WebhookDelivery.output = WebhookDelivery.output;
