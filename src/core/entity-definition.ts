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
 * What {@link field} takes: storage settings, plus where the field shows.
 * `input: false` keeps it out of every input schema (the server sets it, as
 * an artifact's `level`); `output: false` keeps it out of every output schema
 * (it is never answered, as a webhook's secret). Both stay columns.
 */
export interface FieldOptions extends FieldColumn {
  /** `false`: the server sets the field; no input schema lists it. */
  input?: false;
  /** `false`: the field is stored but never answered; no output schema lists it. */
  output?: false;
}

/**
 * Gives a field settings its schema cannot say: a unique constraint, an
 * index, a foreign key, another column type than the inferred one, or that
 * it is server-set (`input: false`) or never answered (`output: false`).
 * Returns the same schema (a copy carrying the settings), so its JSON Schema
 * stays as it was; its static type carries the marks the schemas follow.
 * `nullable: false` on an optional field keeps it optional on input and
 * never null on output.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { field } from "./entity-definition.ts";
 * const title = field(Type.String({ minLength: 1 }), { unique: true });
 * const depth = field(Type.Integer({ minimum: 0 }), { indexed: true, input: false });
 * ```
 */
export function field<T extends TSchema, const O extends FieldOptions>(schema: T, options: O): FieldOf<T, O> {
  return { ...schema, [COLUMN]: options } as unknown as FieldOf<T, O>;
}

declare const ALWAYS_STORED: unique symbol;
declare const NOT_INPUT: unique symbol;
declare const NOT_OUTPUT: unique symbol;

/** An optional field that {@link field} marked `nullable: false`: optional on input, never null on output (a type-level mark only). */
export type StoredField<T extends TSchema> = T & { readonly [ALWAYS_STORED]: true };

/** A field that {@link field} marked `input: false`: set by the server, in no input schema (a type-level mark only). */
export type ServerSetField<T extends TSchema> = T & { readonly [NOT_INPUT]: true };

/** A field that {@link field} marked `output: false`: stored, in no output schema (a type-level mark only). */
export type UnansweredField<T extends TSchema> = T & { readonly [NOT_OUTPUT]: true };

/** The schema {@link field} returns: `T` with the type-level marks its options imply. */
export type FieldOf<T extends TSchema, O extends FieldOptions> =
  & T
  & (O extends { nullable: false } ? { readonly [ALWAYS_STORED]: true } : unknown)
  & (O extends { input: false } ? { readonly [NOT_INPUT]: true } : unknown)
  & (O extends { output: false } ? { readonly [NOT_OUTPUT]: true } : unknown);

/** A field's output: an optional field is `null` when unset, unless it is a {@link StoredField}. */
export type OutputField<S extends TSchema> = S extends TOptional<infer U>
  ? S extends { readonly [ALWAYS_STORED]: true } ? U : TUnion<[U, TNull]>
  : S;

/** The input properties of an entity with fields `F`: an optional client-chosen ULID `id`, then the fields not marked `input: false`. */
export type EntityInputProperties<F extends TProperties> =
  & { id: TOptional<TString> }
  & { [K in keyof F as F[K] extends { readonly [NOT_INPUT]: true } ? never : K]: F[K] };

/** The output properties of an entity with fields `F`: `id`, timestamps, then each field not marked `output: false` (optional ones nullable). */
export type EntityOutputProperties<F extends TProperties> =
  & EntityBaseProperties
  & { [K in keyof F as F[K] extends { readonly [NOT_OUTPUT]: true } ? never : K]: OutputField<F[K]> };

/**
 * The fields of one view of an entity, in the order it answers them, and the
 * output schemas in which the view differs from the field's own.
 */
export interface EntityViewOptions<F extends TProperties = TProperties> {
  /** The fields the view accepts and answers, in order; the others are left out of both. */
  readonly fields: readonly (keyof F & string)[];
  /** Output schemas that differ from the derived ones (a nullable column a profile always answers as an array). */
  readonly output?: { readonly [K in keyof F]?: TSchema };
}

/** Output properties `P` with the overrides `O` of a view in place. */
export type OverriddenProperties<P, O> = { [K in keyof P]: K extends keyof O ? O[K] extends TSchema ? O[K] : P[K] : P[K] };

/** What every view has: an input and an output object schema. */
export interface EntityViewSchemas {
  /** The view's create and update body. */
  readonly input: TObject;
  /** The view's answers. */
  readonly output: TObject;
}

/** One view's schemas: its input (`{Name}In`) and output (`{Name}Out`) over the fields it lists. */
export interface EntityView<F extends TProperties = TProperties, O = unknown> {
  /** The view's create and update body. */
  readonly input: TObject<EntityInputProperties<F>>;
  /** The view's answers. */
  readonly output: TObject<OverriddenProperties<EntityOutputProperties<F>, O>>;
}

/** The view {@link EntityViewOptions} `V` makes of fields `F`. */
export type EntityViewOf<F extends TProperties, V extends EntityViewOptions<F>> = EntityView<
  Pick<F, V["fields"][number]>,
  V["output"]
>;

/**
 * One entity, defined once: its table (columns, indexes, search), its input
 * and output schemas, its views (one per contract profile) and through them
 * its static types. Made by {@link defineEntity}; served by
 * `builder.withEntity(definition)`.
 */
export interface EntityDefinition<
  F extends TProperties = TProperties,
  Table extends string = string,
  Views extends Record<string, EntityViewSchemas> = Record<string, EntityViewSchemas>,
> {
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
  /** The schemas of each view declared with `views` (same titles as {@link EntityDefinition.input} and `output`). */
  readonly views: Views;
}

/** The properties of a stored row of an entity with fields `F`: `id`, timestamps, then every field (unanswered ones too; optional ones nullable). */
export type EntityRecordProperties<F extends TProperties> = EntityBaseProperties & { [K in keyof F]: OutputField<F[K]> };

/** A stored record of an entity: its output, plus the fields marked `output: false`. */
export type EntityRecordOf<D extends EntityDefinition> = Static<TObject<EntityRecordProperties<D["fields"]>>> & EntityRecord;

/** A create or update body of an entity after validation: `Static` of its input schema. */
export type EntityInputOf<D extends EntityDefinition> = Static<D["input"]>;

/** What {@link defineEntity} takes. */
export interface EntityDefinitionOptions<
  F extends TProperties,
  Table extends string = string,
  V extends Record<string, EntityViewOptions<F>> = {},
> {
  /** SQL table name (letters, digits and `_`); also the default route segment (`/api/v1/<table>`). */
  table: Table;
  /** The noun that titles the schemas (default: the table name in PascalCase). */
  name?: string;
  /** Schema titles other than `{name}In` and `{name}Out` (OpenAPI component names clients already know). */
  titles?: { input?: string; output?: string };
  /**
   * The entity's own fields as TypeBox schemas, in column order (and output
   * order unless a view says otherwise). The column type follows the schema
   * (string → text, `format: "date-time"` → timestamp, integer, number →
   * real, boolean, `Uint8Array` → blob, anything else → JSON); optional
   * fields and unions with `null` are nullable. {@link field} adds unique,
   * index and foreign-key settings, and keeps a field out of input or output.
   */
  fields: F;
  /**
   * Named projections of the same fields, for services that speak more than
   * one contract (a `seed` and a `chap` profile): each lists the fields it
   * accepts and answers, in its order, and the output schemas in which it
   * differs. Each gets `{name}In` and `{name}Out` schemas under `views`.
   */
  views?: V;
  /** Extra (multi-column) indexes. */
  indexes?: IndexDefinition[];
  /** Indexes on paths inside JSON fields: `"data.kind"` or `{ path, type }`. */
  jsonIndexes?: (string | JsonPathIndex)[];
  /** Text or JSON fields offered to full-text search (`q=`). */
  searchable?: (keyof F & string)[];
  /** Relations to other tables, loaded with `?include=` or `record.load(name)` (see {@link Relation}). */
  relations?: Record<string, Relation>;
}

/** The views {@link defineEntity} makes of the view options `V`. */
export type EntityViewsOf<F extends TProperties, V extends Record<string, EntityViewOptions<F>>> = {
  [N in keyof V]: EntityViewOf<F, V[N]>;
};

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

function settingsOf(schema: TSchema): FieldOptions {
  return (schema as { [COLUMN]?: FieldOptions })[COLUMN] ?? {};
}

function outputField(schema: TSchema, settings: FieldColumn): TSchema {
  if (!isOptional(schema)) return schema;
  const required = Type.Optional(schema, false);
  if (settings.nullable === false) return required;
  return isNullable(required) ? required : Type.Union([required, Type.Null()]);
}

interface Titles {
  input: string;
  output: string;
}

// The input and output schemas of the listed fields; `replace` swaps a field's schema, keeping its settings.
function schemasOf(
  fields: TProperties,
  keys: readonly string[],
  titles: Titles,
  overrides: Readonly<Record<string, TSchema | undefined>> = {},
  replace: Readonly<Record<string, TSchema | undefined>> = {},
): EntityView {
  const input: TProperties = {};
  const output: TProperties = {};
  for (const key of keys) {
    const declared = fields[key];
    if (declared === undefined) throw new TypeError(`A view lists '${key}', which is not a field`);
    const settings = settingsOf(declared);
    const schema = replace[key] ?? declared;
    if (settings.input !== false) input[key] = schema;
    if (settings.output !== false) output[key] = overrides[key] ?? outputField(schema, settings);
  }
  return {
    input: entityInputSchema(titles.input, input) as EntityView["input"],
    output: entityOutputSchema(titles.output, output) as EntityView["output"],
  };
}

const DEFINITIONS = new WeakMap<object, { titles: Titles; views: Record<string, EntityViewOptions> }>();

/**
 * A view's schemas with some fields' schemas replaced at run time (a
 * service's own config data schema in place of the generic JSON object),
 * keeping the fields' settings, order and the view's titles. The static type
 * stays the view's: replace a field with a narrower schema, not another type.
 *
 * @throws {TypeError} when the definition has no such view.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { defineEntity, entityView } from "./entity-definition.ts";
 * const Doc = defineEntity({
 *   table: "docs",
 *   fields: { name: Type.String(), body: Type.Record(Type.String(), Type.Unknown()) },
 *   views: { api: { fields: ["name", "body"] } },
 * });
 * const { output } = entityView(Doc, "api", { body: Type.Object({ pages: Type.Integer() }) });
 * ```
 */
export function entityView<Views extends Record<string, EntityViewSchemas>, const N extends keyof Views & string>(
  definition: EntityDefinition<TProperties, string, Views>,
  view: N,
  replace: Readonly<Record<string, TSchema | undefined>> = {},
): Views[N] {
  const known = DEFINITIONS.get(definition);
  const options = known?.views[view];
  if (!known || !options) throw new TypeError(`${definition.name} has no view '${view}'`);
  return schemasOf(definition.fields, options.fields, known.titles, options.output, replace) as unknown as Views[N];
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
export function defineEntity<
  F extends TProperties,
  const Table extends string,
  const V extends Record<string, EntityViewOptions<F>> = {},
>(
  options: EntityDefinitionOptions<F, Table, V>,
): EntityDefinition<F, Table, EntityViewsOf<F, V>> {
  const name = options.name ?? pascalCase(options.table);
  const titles: Titles = { input: options.titles?.input ?? `${name}In`, output: options.titles?.output ?? `${name}Out` };
  const columns: Record<string, Column> = {};
  for (const [key, schema] of Object.entries(options.fields)) {
    const { input: _input, output: _output, ...settings } = settingsOf(schema);
    columns[key] = { type: inferColumnType(schema), nullable: isNullable(schema), ...settings };
  }
  const table = defineTable({
    name: options.table,
    columns,
    ...(options.indexes ? { indexes: options.indexes } : {}),
    ...(options.jsonIndexes ? { jsonIndexes: options.jsonIndexes } : {}),
    ...(options.searchable ? { searchable: options.searchable } : {}),
    ...(options.relations ? { relations: options.relations } : {}),
  });
  const viewOptions = (options.views ?? {}) as Record<string, EntityViewOptions>;
  const views: Record<string, EntityView> = {};
  for (const [view, each] of Object.entries(viewOptions)) {
    views[view] = schemasOf(options.fields, each.fields, titles, each.output);
  }
  const all = schemasOf(options.fields, Object.keys(options.fields), titles);
  const definition: EntityDefinition<F, Table, EntityViewsOf<F, V>> = {
    name,
    table: table as TableDefinition & { readonly name: Table },
    fields: options.fields,
    input: all.input as TObject<EntityInputProperties<F>>,
    output: all.output as TObject<EntityOutputProperties<F>>,
    views: views as EntityViewsOf<F, V>,
  };
  DEFINITIONS.set(definition, { titles, views: viewOptions });
  return definition;
}
