import { type TBoolean, type TNull, type TNumber, type TOptional, type TString, type TUnion, Type } from "@sinclair/typebox";
import type { TableDefinition } from "../../core/entity.ts";
import { defineEntity, type EntityDefinition, type EntityRecordOf, field, type StoredField } from "../../core/entity-definition.ts";

const NameSchema: TString = Type.String({ pattern: "^[A-Za-z0-9_.-]{1,100}$", description: "Flag name: letters, digits, `_`, `.`, `-`" });
const PercentageSchema: TNumber = Type.Number({ minimum: 0, maximum: 100, description: "Share of keys (0–100) that get the flag, sticky by key" });
const RuleSchema: TUnion<[TString, TNull]> = Type.Union([Type.String({ minLength: 1, maxLength: 4000 }), Type.Null()], {
  description: 'Filter expression over `$user.id`, `$user.role`, `$request.header.<name>`, `$request.method`, `$request.path`, e.g. `$user.role = "admin"`',
});
const NullableText: TUnion<[TString, TNull]> = Type.Union([Type.String(), Type.Null()]);

/**
 * The feature flag entity, defined once: the `flags` table, `FlagIn` (`name`
 * required; `enabled` (default true), `percentage` (default 100), `rule`,
 * `description` optional) and `FlagOut`.
 */
export const Flag: EntityDefinition<{
  name: TString;
  enabled: StoredField<TOptional<TBoolean>>;
  percentage: StoredField<TOptional<TNumber>>;
  rule: TOptional<typeof RuleSchema>;
  description: TOptional<typeof NullableText>;
}, "flags"> = defineEntity({
  table: "flags",
  name: "Flag",
  fields: {
    name: field(NameSchema, { unique: true }),
    enabled: field(Type.Optional(Type.Boolean({ description: "Off answers false for everyone (default true)" })), { nullable: false }),
    percentage: field(Type.Optional(PercentageSchema), { nullable: false }),
    rule: Type.Optional(RuleSchema),
    description: Type.Optional(NullableText),
  },
});

/** A stored feature flag: `name` (unique), `enabled`, `percentage` (0–100, sticky by key), `rule` (filter over `$user.*`/`$request.*`, or null), `description`. */
export type FlagRecord = EntityRecordOf<typeof Flag>;

/** The `flags` table. */
export const flagsTable: TableDefinition = Flag.table;

/** The flag input schema type. */
export type FlagInSchema = typeof Flag.input;

/** The flag output schema type. */
export type FlagOutSchema = typeof Flag.output;

/** Create and update body of a flag: `name` required; `enabled` (default true), `percentage` (default 100), `rule`, `description` optional. */
export const FlagInSchema: FlagInSchema = Flag.input;

/** A flag as answered. */
export const FlagOutSchema: FlagOutSchema = Flag.output;
