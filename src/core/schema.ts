import {
  type TObject,
  type TOptional,
  type TProperties,
  type TString,
  Type,
} from "@sinclair/typebox";

/** The regular expression source a canonical ULID matches. */
export const ULID_PATTERN = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$";

/** TypeBox schema of a ULID string. */
export const UlidSchema: TString = Type.String({
  pattern: ULID_PATTERN,
  minLength: 26,
  maxLength: 26,
  description: "ULID (26 upper-case Crockford base32 characters)",
});

/** TypeBox schema of an ISO 8601 UTC timestamp. */
export const TimestampSchema: TString = Type.String({ format: "date-time" });

/** The output properties every entity starts with. */
export type EntityBaseProperties = {
  id: TString;
  created_at: TString;
  updated_at: TString;
};

/**
 * The output schema of an entity: `id`, `created_at`, `updated_at`, then its
 * own properties, all required.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { entityOutputSchema } from "./schema.ts";
 * const NoteOut = entityOutputSchema("NoteOut", { title: Type.String() });
 * ```
 */
export function entityOutputSchema<P extends TProperties>(
  title: string,
  properties: P,
): TObject<EntityBaseProperties & P> {
  return Type.Object(
    { id: UlidSchema, created_at: TimestampSchema, updated_at: TimestampSchema, ...properties },
    { title },
  ) as TObject<EntityBaseProperties & P>;
}

/**
 * The input schema of an entity: an optional client-chosen `id`, then its own
 * properties. Unknown keys are accepted and dropped.
 */
export function entityInputSchema<P extends TProperties>(
  title: string,
  properties: P,
): TObject<{ id: TOptional<TString> } & P> {
  return Type.Object({ id: Type.Optional(UlidSchema), ...properties }, { title }) as TObject<
    { id: TOptional<TString> } & P
  >;
}
