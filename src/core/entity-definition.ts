import {
  Kind,
  OptionalKind,
  type Static,
  type TNull,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TString,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import {
  type Column,
  type ColumnType,
  defineTable,
  type EntityRecord,
  type IndexDefinition,
  type JsonPathIndex,
  type Relation,
  type TableDefinition,
} from "./entity.ts";
import { type EntityBaseProperties, entityInputSchema, entityOutputSchema, ULID_PATTERN } from "./schema.ts";

const COLUMN = Symbol.for("chapkit.column");

/**
 * Storage settings of one field; every key is optional because the schema
 * already implies the type and nullability. `nullable: false` on an optional
 * field makes it optional on input but always stored, so its output is not
 * nullable either (the manager fills it, from a default or the stored row).
 */
export type FieldColumn = Partial<Column>;

/**
 * Gives a field storage settings its schema cannot say: a unique constraint,
 * an index, a foreign key, or another column type than the inferred one.
 * Returns the same schema (a copy carrying the settings), so its static type
 * and its JSON Schema stay as they were. `nullable: false` on an optional
 * field keeps it optional on input and never null on output.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { field } from "./entity-definition.ts";
 * const title = field(Type.String({ minLength: 1 }), { unique: true });
 * ```
 */
export function field<T extends TSchema>(schema: T, column: FieldColumn & { nullable: false }): StoredField<T>;
/** Gives a field storage settings its schema cannot say (see the overload above). */
export function field<T extends TSchema>(schema: T, column: FieldColumn): T;
export function field<T extends TSchema>(schema: T, column: FieldColumn): T {
  return { ...schema, [COLUMN]: column } as T;
}

declare const ALWAYS_STORED: unique symbol;

/** An optional field that {@link field} marked `nullable: false`: optional on input, never null on output (a type-level mark only). */
export type StoredField<T extends TSchema> = T & { readonly [ALWAYS_STORED]: true };

/** A field's output: an optional field is `null` when unset, unless it is a {@link StoredField}. */
export type OutputField<S extends TSchema> = S extends TOptional<infer U>
  ? S extends { readonly [ALWAYS_STORED]: true } ? U : TUnion<[U, TNull]>
  : S;

/** The input properties of an entity with fields `F`: an optional client-chosen ULID `id`, then the fields. */
export type EntityInputProperties<F extends TProperties> = { id: TOptional<TString> } & F;

/** The output properties of an entity with fields `F`: `id`, timestamps, then each field (optional ones nullable). */
export type EntityOutputProperties<F extends TProperties> = EntityBaseProperties & { [K in keyof F]: OutputField<F[K]> };

/**
 * One entity, defined once: its table (columns, indexes, search), its input
 * and output schemas, and through them its static types. Made by
 * {@link defineEntity}; served by `builder.withEntity(definition)`.
 */
export interface EntityDefinition<F extends TProperties = TProperties, Table extends string = string> {
  /** The noun that titles the schemas (`NoteIn`, `NoteOut`) and the routes' summaries. */
  readonly name: string;
  /** The table derived from the fields; its name is kept as a literal type (the default route segment). */
  readonly table: TableDefinition & { readonly name: Table };
  /** The fields as declared. */
  readonly fields: F;
  /** Create and update bodies: an optional `id`, then the fields (defaults filled, unknown keys dropped). */
  readonly input: TObject<EntityInputProperties<F>>;
  /** Stored records as clients get them: `id`, `created_at`, `updated_at`, then the fields. */
  readonly output: TObject<EntityOutputProperties<F>>;
}

/** A stored record of an entity: `Static` of its output schema. */
export type EntityRecordOf<D extends EntityDefinition> = Static<D["output"]> & EntityRecord;

/** A create or update body of an entity after validation: `Static` of its input schema. */
export type EntityInputOf<D extends EntityDefinition> = Static<D["input"]>;

/** What {@link defineEntity} takes. */
export interface EntityDefinitionOptions<F extends TProperties, Table extends string = string> {
  /** SQL table name (letters, digits and `_`); also the default route segment (`/api/v1/<table>`). */
  table: Table;
  /** The noun that titles the schemas (default: the table name in PascalCase). */
  name?: string;
  /**
   * The entity's own fields as TypeBox schemas, in output order. The column
   * type follows the schema (string → text, `format: "date-time"` →
   * timestamp, integer, number → real, boolean, `Uint8Array` → blob,
   * anything else → JSON); optional fields and unions with `null` are
   * nullable. {@link field} adds unique, index and foreign-key settings.
   */
  fields: F;
  /** Extra (multi-column) indexes. */
  indexes?: IndexDefinition[];
  /** Indexes on paths inside JSON fields: `"data.kind"` or `{ path, type }`. */
  jsonIndexes?: (string | JsonPathIndex)[];
  /** Text or JSON fields offered to full-text search (`q=`). */
  searchable?: (keyof F & string)[];
  /** Relations to other tables, loaded with `?include=` or `record.load(name)` (see {@link Relation}). */
  relations?: Record<string, Relation>;
}

function pascalCase(name: string): string {
  return name.split("_").filter(Boolean).map((part) => part[0]!.toUpperCase() + part.slice(1)).join("");
}

function isOptional(schema: TSchema): boolean {
  return (schema as { [OptionalKind]?: string })[OptionalKind] === "Optional";
}

function literalType(value: unknown): ColumnType {
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "real";
  return typeof value === "boolean" ? "boolean" : "text";
}

/** The column type a schema implies (see {@link EntityDefinitionOptions.fields}). */
export function inferColumnType(schema: TSchema): ColumnType {
  switch (schema[Kind]) {
    case "String":
      if (schema.format === "date-time") return "timestamp";
      return schema.pattern === ULID_PATTERN ? "ulid" : "text";
    case "Integer":
      return "integer";
    case "Number":
      return "real";
    case "Boolean":
      return "boolean";
    case "Uint8Array":
      return "blob";
    case "Literal":
      return literalType(schema.const);
    case "Union": {
      const types = new Set((schema.anyOf as TSchema[]).filter((part) => part[Kind] !== "Null").map(inferColumnType));
      return types.size === 1 ? [...types][0]! : "json";
    }
    default:
      return "json";
  }
}

function isNullable(schema: TSchema): boolean {
  return isOptional(schema) || (schema[Kind] === "Union" && (schema.anyOf as TSchema[]).some((part) => part[Kind] === "Null"));
}

function outputField(schema: TSchema, settings: FieldColumn): TSchema {
  if (!isOptional(schema)) return schema;
  const required = Type.Optional(schema, false);
  if (settings.nullable === false) return required;
  return isNullable(required) ? required : Type.Union([required, Type.Null()]);
}

/**
 * Defines an entity from its fields: the table (with its indexes and search
 * index), the input and output schemas, and so the record and input types
 * (`Static<typeof Note.output>`, or {@link EntityRecordOf}). Identifiers are
 * checked as {@link defineTable} does.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { defineEntity, field } from "./entity-definition.ts";
 * const Note = defineEntity({
 *   table: "notes",
 *   name: "Note",
 *   fields: {
 *     title: field(Type.String({ minLength: 1 }), { unique: true }),
 *     body: Type.String({ default: "" }),
 *     due: Type.Optional(Type.String({ format: "date-time" })),
 *   },
 *   searchable: ["title", "body"],
 * });
 * ```
 */
export function defineEntity<F extends TProperties, const Table extends string>(
  options: EntityDefinitionOptions<F, Table>,
): EntityDefinition<F, Table> {
  const name = options.name ?? pascalCase(options.table);
  const columns: Record<string, Column> = {};
  const output: TProperties = {};
  for (const [key, schema] of Object.entries(options.fields)) {
    const settings = (schema as { [COLUMN]?: FieldColumn })[COLUMN] ?? {};
    columns[key] = { type: inferColumnType(schema), nullable: isNullable(schema), ...settings };
    output[key] = outputField(schema, settings);
  }
  const table = defineTable({
    name: options.table,
    columns,
    ...(options.indexes ? { indexes: options.indexes } : {}),
    ...(options.jsonIndexes ? { jsonIndexes: options.jsonIndexes } : {}),
    ...(options.searchable ? { searchable: options.searchable } : {}),
    ...(options.relations ? { relations: options.relations } : {}),
  });
  return {
    name,
    table: table as TableDefinition & { readonly name: Table },
    fields: options.fields,
    input: entityInputSchema(`${name}In`, options.fields),
    output: entityOutputSchema(`${name}Out`, output) as TObject<EntityOutputProperties<F>>,
  };
}
