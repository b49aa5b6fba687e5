/**
 * The GraphQL schema of a service, generated from its registered entities:
 * per entity an object type, an input type, a page type, a list query with
 * the filter grammar, sort, cursor paging and search, a by-id query, and
 * create, update, patch and delete mutations through the entity's manager.
 */
import type * as GraphQL from "graphql";
import type { TSchema } from "@sinclair/typebox";
import { ChapkitError, NotFoundError, toChapkitError } from "../../core/errors.ts";
import { type ListQueryOptions, parseListQuery } from "../../core/query/list-query.ts";
import { runListRequest } from "../../core/query/list-result.ts";
import { parseUlid } from "../../core/ulid.ts";
import type { TableDefinition } from "../../core/entity.ts";
import { requirePermission } from "../../http/auth-guard.ts";
import { patchEntity } from "../../http/merge-patch-route.ts";
import type { RegisteredEntity } from "../entity/mod.ts";
import type { EventBus } from "../../core/events/bus.ts";
import type { ServiceEvent } from "../../core/events/types.ts";
import { parseFilter } from "../../core/query/filter-parse.ts";

/** The events a bus selector accepts, as an async iterator that unsubscribes when the client stops. */
function eventStream(bus: EventBus, selector: Parameters<EventBus["subscribe"]>[0]): AsyncIterableIterator<ServiceEvent> {
  const queue: ServiceEvent[] = [];
  let wake: ((result: IteratorResult<ServiceEvent>) => void) | undefined;
  let done = false;
  const stop = bus.subscribe(selector, (event) => {
    if (wake) {
      const resolve = wake;
      wake = undefined;
      resolve({ value: event, done: false });
    } else {
      queue.push(event);
    }
  });
  const finish = (): Promise<IteratorResult<ServiceEvent>> => {
    done = true;
    stop();
    wake?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next: () => {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** What every resolver sees: the HTTP request (for auth) and the logger's error sink. */
export interface GraphqlContext {
  /** The request that carried the operation. */
  request: Request;
  [key: PropertyKey]: unknown;
}

/** Settings of the generated schema. */
export interface GraphqlSchemaOptions {
  /** The service's event bus: with it, each entity gets a `<table>_events` subscription. */
  bus?: EventBus;
  /** Signs list cursors, as the REST lists do (so cursors are interchangeable). */
  cursorSecret?: string;
  /** Reports an unexpected error (the client sees only "An unexpected error occurred"). */
  onInternalError?: (error: unknown) => void;
}

type Library = typeof import("graphql");
type OutputType = GraphQL.GraphQLOutputType;
type InputType = GraphQL.GraphQLInputType;

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

function graphqlName(raw: string): string {
  const name = raw.replace(/[^_0-9A-Za-z]/g, "_");
  return NAME.test(name) ? name : `_${name}`;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The JSON scalar: any JSON value, for objects, records and mixed unions. */
function jsonScalar(gql: Library): GraphQL.GraphQLScalarType {
  const literal = (node: GraphQL.ValueNode, variables: Record<string, unknown> | null | undefined): unknown => {
    switch (node.kind) {
      case gql.Kind.STRING:
      case gql.Kind.ENUM:
        return node.value;
      case gql.Kind.BOOLEAN:
        return node.value;
      case gql.Kind.INT:
      case gql.Kind.FLOAT:
        return Number(node.value);
      case gql.Kind.NULL:
        return null;
      case gql.Kind.LIST:
        return node.values.map((value) => literal(value, variables));
      case gql.Kind.OBJECT:
        return Object.fromEntries(node.fields.map((field) => [field.name.value, literal(field.value, variables)]));
      case gql.Kind.VARIABLE:
        return variables?.[node.name.value];
    }
  };
  return new gql.GraphQLScalarType({
    name: "JSON",
    description: "Any JSON value",
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: literal,
  });
}

/** How TypeBox schemas become GraphQL types: scalars and arrays of them map, anything else is JSON. */
function typeMapper(gql: Library, json: GraphQL.GraphQLScalarType) {
  const scalar = (schema: TSchema): GraphQL.GraphQLScalarType => {
    const nonNull = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]).filter((member) => member.type !== "null") : [schema];
    if (nonNull.length !== 1) return json;
    switch (nonNull[0]!.type) {
      case "string":
        return gql.GraphQLString;
      case "integer":
        return gql.GraphQLInt;
      case "number":
        return gql.GraphQLFloat;
      case "boolean":
        return gql.GraphQLBoolean;
      default:
        return json;
    }
  };
  const base = (schema: TSchema): GraphQL.GraphQLScalarType | GraphQL.GraphQLList<GraphQL.GraphQLNonNull<GraphQL.GraphQLScalarType>> => {
    if (schema.type === "array" && schema.items) {
      const item = scalar(schema.items as TSchema);
      return item === json ? json : new gql.GraphQLList(new gql.GraphQLNonNull(item));
    }
    return scalar(schema);
  };
  const nullable = (schema: TSchema): boolean =>
    Array.isArray(schema.anyOf) && (schema.anyOf as TSchema[]).some((member) => member.type === "null");
  return {
    output(schema: TSchema, required: boolean): OutputType {
      const type = base(schema);
      return required && !nullable(schema) ? new gql.GraphQLNonNull(type) : type;
    },
    input(schema: TSchema, required: boolean): InputType {
      const type = base(schema);
      return required && !nullable(schema) && schema.default === undefined ? new gql.GraphQLNonNull(type) : type;
    },
  };
}

/** A GraphQL error carrying the RFC 9457 problem of a chapkit error (status, type, field errors). */
function problemError(gql: Library, error: unknown, options: GraphqlSchemaOptions): GraphQL.GraphQLError {
  if (error instanceof gql.GraphQLError) return error;
  const chapkit: ChapkitError = toChapkitError(error);
  if (!(error instanceof ChapkitError)) options.onInternalError?.(error);
  const problem = chapkit.toProblem();
  return new gql.GraphQLError(chapkit.message, { extensions: { code: problem.type, status: problem.status, problem } });
}

/** The fields of `items` a query selects (fragments followed), for the list's SQL projection. */
function selectedItemFields(gql: Library, info: GraphQL.GraphQLResolveInfo, columns: Set<string>): string[] | undefined {
  const fields = new Set<string>();
  const visit = (selections: readonly GraphQL.SelectionNode[], inItems: boolean): boolean => {
    for (const selection of selections) {
      if (selection.kind === gql.Kind.FIELD) {
        const name = selection.name.value;
        if (!inItems) {
          if (name === "items" && selection.selectionSet) visit(selection.selectionSet.selections, true);
        } else if (columns.has(name)) {
          fields.add(name);
        } else if (name !== "__typename") {
          return false;
        }
      } else if (selection.kind === gql.Kind.INLINE_FRAGMENT) {
        if (!visit(selection.selectionSet.selections, inItems)) return false;
      } else {
        const fragment = info.fragments[selection.name.value];
        if (!fragment || !visit(fragment.selectionSet.selections, inItems)) return false;
      }
    }
    return true;
  };
  const complete = info.fieldNodes.every((node) => !node.selectionSet || visit(node.selectionSet.selections, false));
  return complete && fields.size > 0 ? [...fields] : undefined;
}

/**
 * Builds the schema of the given entities with the `graphql` library.
 *
 * @throws {Error} when no entity is registered (GraphQL needs at least one query).
 */
export function buildGraphqlSchema(gql: Library, entities: readonly RegisteredEntity[], options: GraphqlSchemaOptions = {}): GraphQL.GraphQLSchema {
  const json = jsonScalar(gql);
  const types = typeMapper(gql, json);
  const query: GraphQL.GraphQLFieldConfigMap<unknown, GraphqlContext> = {};
  const mutation: GraphQL.GraphQLFieldConfigMap<unknown, GraphqlContext> = {};
  const subscription: GraphQL.GraphQLFieldConfigMap<unknown, GraphqlContext> = {};
  const guard = <A>(run: (args: A, context: GraphqlContext, info: GraphQL.GraphQLResolveInfo) => Promise<unknown>) =>
    async (_: unknown, args: A, context: GraphqlContext, info: GraphQL.GraphQLResolveInfo): Promise<unknown> => {
      try {
        return await run(args, context, info);
      } catch (error) {
        throw problemError(gql, error, options);
      }
    };
  if (entities.length === 0) throw new Error("GraphQL needs at least one entity: add one with withEntity()");
  for (const entity of entities) {
    const { definition, manager, access } = entity;
    const name = graphqlName(upperFirst(definition.name));
    const table: TableDefinition = definition.table;
    const outputProps = definition.output.properties as Record<string, TSchema>;
    const outputRequired = new Set(definition.output.required ?? []);
    const object = new gql.GraphQLObjectType({
      name,
      description: `A ${definition.name} (REST: ${entity.prefix})`,
      fields: () => Object.fromEntries(Object.entries(outputProps).filter(([key]) => NAME.test(key)).map(([key, schema]) => [
        key,
        { type: key === "id" ? new gql.GraphQLNonNull(gql.GraphQLID) : types.output(schema, outputRequired.has(key)) },
      ])),
    });
    const inputProps = definition.input.properties as Record<string, TSchema>;
    const inputRequired = new Set(definition.input.required ?? []);
    const input = new gql.GraphQLInputObjectType({
      name: `${name}Input`,
      fields: () => Object.fromEntries(Object.entries(inputProps).filter(([key]) => NAME.test(key) && key !== "id").map(([key, schema]) => [
        key,
        { type: types.input(schema, inputRequired.has(key)) },
      ])),
    });
    const page = new gql.GraphQLObjectType({
      name: `${name}Page`,
      description: `A cursor page of ${definition.name}: pass next_cursor back as cursor for the next one`,
      fields: {
        items: { type: new gql.GraphQLNonNull(new gql.GraphQLList(new gql.GraphQLNonNull(object))) },
        next_cursor: { type: gql.GraphQLString },
        total: { type: gql.GraphQLInt },
      },
    });
    const listSettings: ListQueryOptions = { ...(entity.list === false ? {} : entity.list), table, ...(options.cursorSecret ? { cursorSecret: options.cursorSecret } : {}) };
    const columns = new Set(Object.keys(outputProps));
    const listName = graphqlName(table.name);
    const itemName = graphqlName(lowerFirst(definition.name)) === listName ? `${listName}_by_id` : graphqlName(lowerFirst(definition.name));
    const idOf = (raw: string): string => parseUlid(raw, `${entity.prefix}/${raw}`);

    query[listName] = {
      type: new gql.GraphQLNonNull(page),
      description: `${definition.name} list: filter (the REST filter grammar, e.g. \`stars >= 3 && title ~ "x"\`), sort (\`-created_at,title\`), cursor paging, search`,
      args: {
        filter: { type: gql.GraphQLString },
        sort: { type: gql.GraphQLString },
        limit: { type: gql.GraphQLInt },
        cursor: { type: gql.GraphQLString },
        ...(table.searchable?.length ? { q: { type: gql.GraphQLString } } : {}),
        count: { type: gql.GraphQLBoolean, description: "Count the matching rows into total (default false)" },
      },
      resolve: guard(async (args: Record<string, unknown>, context, info) => {
        requirePermission(context.request, access.read, entity.prefix);
        const params = new URLSearchParams({ limit: String(args.limit ?? listSettings.defaultLimit ?? 50), count: String(args.count === true) });
        for (const key of ["filter", "sort", "cursor", "q"]) if (typeof args[key] === "string") params.set(key, args[key] as string);
        const fields = selectedItemFields(gql, info, columns);
        if (fields) params.set("fields", [...new Set(["id", ...fields])].join(","));
        const request = parseListQuery(params, listSettings);
        return runListRequest(manager, request, options.cursorSecret ? { cursorSecret: options.cursorSecret } : {});
      }),
    };
    query[itemName] = {
      type: object,
      description: `One ${definition.name} by id, or null`,
      args: { id: { type: new gql.GraphQLNonNull(gql.GraphQLID) } },
      resolve: guard(async (args: { id: string }, context) => {
        requirePermission(context.request, access.read, entity.prefix);
        try {
          return await manager.get(idOf(args.id));
        } catch (error) {
          if (error instanceof NotFoundError) return null;
          throw error;
        }
      }),
    };
    const write = (context: GraphqlContext): void => requirePermission(context.request, access.write, entity.prefix);
    mutation[`create${name}`] = {
      type: new gql.GraphQLNonNull(object),
      args: { input: { type: new gql.GraphQLNonNull(input) } },
      resolve: guard(async (args: { input: Record<string, unknown> }, context) => {
        write(context);
        return (await manager.save({ ...args.input })).output;
      }),
    };
    mutation[`update${name}`] = {
      type: new gql.GraphQLNonNull(object),
      description: "Replaces every field (as PUT does)",
      args: { id: { type: new gql.GraphQLNonNull(gql.GraphQLID) }, input: { type: new gql.GraphQLNonNull(input) } },
      resolve: guard(async (args: { id: string; input: Record<string, unknown> }, context) => {
        write(context);
        return manager.update(idOf(args.id), { ...args.input });
      }),
    };
    mutation[`patch${name}`] = {
      type: new gql.GraphQLNonNull(object),
      description: "JSON Merge Patch (RFC 7396), as PATCH does",
      args: { id: { type: new gql.GraphQLNonNull(gql.GraphQLID) }, patch: { type: new gql.GraphQLNonNull(json) } },
      resolve: guard(async (args: { id: string; patch: unknown }, context) => {
        write(context);
        return patchEntity(manager, idOf(args.id), args.patch);
      }),
    };
    const bus = options.bus;
    if (bus) {
      const event = new gql.GraphQLObjectType({
        name: `${name}Event`,
        description: `A committed change of a ${definition.name}`,
        fields: {
          id: { type: new gql.GraphQLNonNull(gql.GraphQLID) },
          type: { type: new gql.GraphQLNonNull(gql.GraphQLString), description: "entity.created, entity.updated or entity.deleted" },
          timestamp: { type: new gql.GraphQLNonNull(gql.GraphQLString) },
          entity: { type: new gql.GraphQLNonNull(object), description: "The new state (the last one for a delete)" },
        },
      });
      subscription[`${listName}_events`] = {
        type: new gql.GraphQLNonNull(event),
        description: `Committed changes of ${definition.name}, optionally only those whose entity matches filter (the list grammar)`,
        args: { filter: { type: gql.GraphQLString }, types: { type: new gql.GraphQLList(new gql.GraphQLNonNull(gql.GraphQLString)) } },
        subscribe: (_: unknown, args: { filter?: string | null; types?: string[] | null }, context: GraphqlContext) => {
          try {
            requirePermission(context.request, access.read, entity.prefix);
            const filter = args.filter ? parseFilter(args.filter, { table }) : undefined;
            return eventStream(bus, {
              collections: [table.name],
              ...(args.types?.length ? { types: args.types } : {}),
              ...(filter ? { filter } : {}),
            });
          } catch (error) {
            throw problemError(gql, error, options);
          }
        },
        resolve: (source: unknown) => {
          const event = source as ServiceEvent;
          return { id: event.id, type: event.type, timestamp: event.timestamp, entity: event.data.entity };
        },
      };
    }
    mutation[`delete${name}`] = {
      type: new gql.GraphQLNonNull(gql.GraphQLBoolean),
      args: { id: { type: new gql.GraphQLNonNull(gql.GraphQLID) } },
      resolve: guard(async (args: { id: string }, context) => {
        write(context);
        await manager.delete(idOf(args.id));
        return true;
      }),
    };
  }
  return new gql.GraphQLSchema({
    query: new gql.GraphQLObjectType({ name: "Query", fields: query }),
    mutation: new gql.GraphQLObjectType({ name: "Mutation", fields: mutation }),
    ...(Object.keys(subscription).length > 0 ? { subscription: new gql.GraphQLObjectType({ name: "Subscription", fields: subscription }) } : {}),
  });
}
