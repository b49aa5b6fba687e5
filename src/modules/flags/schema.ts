import { type TBoolean, type TNull, type TNumber, type TObject, type TOptional, type TString, type TUnion, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { type EntityBaseProperties, entityInputSchema, entityOutputSchema } from "../../core/schema.ts";

/** A stored feature flag. */
export interface FlagRecord extends EntityRecord {
  /** The name code asks for (`flags.enabled(name, …)`), unique. */
  name: string;
  /** Off: the flag answers false whatever else it says. */
  enabled: boolean;
  /** Share (0–100) of keys that get the flag, sticky by key; 100 is everyone. */
  percentage: number;
  /** A filter expression over `$user.*` and `$request.*` the caller must match, or null for everyone. */
  rule: string | null;
  /** What the flag is for. */
  description: string | null;
}

/** The `flags` table. */
export const flagsTable: TableDefinition = defineTable({
  name: "flags",
  columns: {
    name: { type: "text", unique: true },
    enabled: { type: "boolean" },
    percentage: { type: "real" },
    rule: { type: "text", nullable: true },
    description: { type: "text", nullable: true },
  },
});

const NameSchema: TString = Type.String({ pattern: "^[A-Za-z0-9_.-]{1,100}$", description: "Flag name: letters, digits, `_`, `.`, `-`" });
const PercentageSchema: TNumber = Type.Number({ minimum: 0, maximum: 100, description: "Share of keys (0–100) that get the flag, sticky by key" });
const NullableText: TUnion<[TString, TNull]> = Type.Union([Type.String(), Type.Null()]);

/** The flag input schema type. */
export type FlagInSchema = TObject<
  { id: TOptional<TString> } & {
    name: TString;
    enabled: TOptional<TBoolean>;
    percentage: TOptional<TNumber>;
    rule: TOptional<typeof NullableText>;
    description: TOptional<typeof NullableText>;
  }
>;

/** The flag output schema type. */
export type FlagOutSchema = TObject<
  EntityBaseProperties & {
    name: TString;
    enabled: TBoolean;
    percentage: TNumber;
    rule: typeof NullableText;
    description: typeof NullableText;
  }
>;

/** Create and update body of a flag: `name` required; `enabled` (default true), `percentage` (default 100), `rule`, `description` optional. */
export const FlagInSchema: FlagInSchema = entityInputSchema("FlagIn", {
  name: NameSchema,
  enabled: Type.Optional(Type.Boolean({ description: "Off answers false for everyone (default true)" })),
  percentage: Type.Optional(PercentageSchema),
  rule: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4000 }), Type.Null()], {
    description: 'Filter expression over `$user.id`, `$user.role`, `$request.header.<name>`, `$request.method`, `$request.path`, e.g. `$user.role = "admin"`',
  })),
  description: Type.Optional(NullableText),
});

/** A flag as answered. */
export const FlagOutSchema: FlagOutSchema = entityOutputSchema("FlagOut", {
  name: Type.String(),
  enabled: Type.Boolean(),
  percentage: Type.Number(),
  rule: NullableText,
  description: NullableText,
});
