/**
 * GraphQL over HTTP at `/api/v1/graphql`, generated from the entities
 * installed with `withEntity`: list queries with the REST filter grammar,
 * sort, cursor paging, search and field selection; by-id queries; create,
 * update, patch and delete mutations through the same managers (hooks,
 * validation) and the same permissions; subscriptions to committed changes
 * over WebSocket (the graphql-ws protocol) on the same path. Served by
 * `graphql-http` and `graphql-ws` on `graphql` (optional peers, imported on
 * the first request).
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { ConfigurationError } from "../../core/errors.ts";
import { storedSecret } from "../../db/service-secret.ts";
import { addRoute } from "../../http/_route.ts";
import { AUTHENTICATED, withPermission } from "../../http/auth-guard-permissions.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { registeredEntities } from "../entity/mod.ts";
import { upgradeWebSocket } from "../../runtime/websocket.ts";
import { buildGraphqlSchema, type GraphqlContext } from "./schema.ts";

export type { GraphqlContext } from "./schema.ts";

/** Options of `withGraphql()`. */
export interface GraphqlOptions {
  /** Path (default `/api/v1/graphql`). */
  path?: string;
  /** OpenAPI tags (default `["GraphQL"]`). */
  tags?: string[];
}

const GraphqlRequestSchema = Type.Object({
  query: Type.String(),
  variables: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  operationName: Type.Optional(Type.String()),
}, { title: "GraphqlRequest", examples: [{ query: "{ notes(limit: 10, sort: \"-created_at\") { items { id title } next_cursor } }" }] });

const GraphqlResponseSchema = Type.Object({
  data: Type.Optional(Type.Unknown()),
  errors: Type.Optional(Type.Array(Type.Object({ message: Type.String() }, { additionalProperties: true }))),
}, { title: "GraphqlResponse" });

type Handle = (request: Request, body: unknown) => Promise<Response>;

/** The graphql-ws subprotocol. */
const GRAPHQL_WS = "graphql-transport-ws";

const PEERS = "GraphQL needs the graphql and graphql-http packages: bun add graphql graphql-http (or npm install graphql graphql-http)";

/** Imports the peers and builds the handler over the registered entities. */
async function createGraphqlHandler(context: ServiceContext): Promise<Handle> {
  let libraries: [typeof import("graphql"), typeof import("graphql-http")];
  try {
    libraries = await Promise.all([import("graphql"), import("graphql-http")]);
  } catch (error) {
    throw new ConfigurationError(PEERS, { cause: error });
  }
  const [gql, http] = libraries;
  const cursorSecret = context.settings.http.secret ?? await storedSecret(context.db, "cursor");
  const logger = context.logger.child({ module: "graphql" });
  const schema = buildGraphqlSchema(gql, registeredEntities(context), {
    bus: context.events,
    cursorSecret,
    onInternalError: (error) => logger.error("graphql.resolver_failed", { error }),
  });
  const handler = http.createHandler<Request, undefined, GraphqlContext>({
    schema,
    context: (request) => ({ request: request.raw }),
  });
  let sockets: ReturnType<typeof import("graphql-ws").makeServer<Record<string, unknown>, { request: Request }>> | undefined;
  const subscribe = async (request: Request): Promise<Response | null> => {
    if (!sockets) {
      let ws: typeof import("graphql-ws");
      try {
        ws = await import("graphql-ws");
      } catch (error) {
        throw new ConfigurationError("GraphQL subscriptions need the graphql-ws package: bun add graphql-ws (or npm install graphql-ws)", { cause: error });
      }
      sockets = ws.makeServer<Record<string, unknown>, { request: Request }>({ schema, context: (ctx) => ({ request: ctx.extra.request }) });
    }
    const server = sockets;
    let listener: ((data: string) => Promise<void>) | undefined;
    let closed: ((code?: number, reason?: string) => Promise<void>) | undefined;
    return upgradeWebSocket(request, {
      open(socket) {
        closed = server.opened({
          protocol: GRAPHQL_WS,
          send: (data) => socket.send(data),
          close: (code, reason) => socket.close(code, reason),
          onMessage: (cb) => {
            listener = cb;
          },
        }, { request });
      },
      message(_socket, text) {
        listener?.(text).catch((error: unknown) => logger.error("graphql.ws_message_failed", { error }));
      },
      close() {
        void closed?.(1000, "closed");
      },
    }, { protocol: GRAPHQL_WS });
  };
  return async (request, body) => {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const upgraded = await subscribe(request);
      if (upgraded) return upgraded;
    }
    // The service has read the body already (JSON or MessagePack): graphql-http gets the value.
    const parsed = request.method === "POST";
    const headers = {
      get: (name: string): string | null =>
        parsed && name.toLowerCase() === "content-type" ? "application/json" : request.headers.get(name),
    };
    const [text, init] = await handler({
      method: request.method,
      url: request.url,
      headers,
      body: parsed ? (body as Record<string, unknown> | null) : null,
      raw: request,
      context: undefined,
    });
    return new Response(text, init as ResponseInit);
  };
}

/**
 * The GraphQL module: `POST` and `GET` on `/api/v1/graphql`. Under auth the
 * route needs any valid credentials, and each field the permission its REST
 * routes need (`<table>:read`, `<table>:write` or the entity's `access`).
 */
export function graphqlModule(options: GraphqlOptions = {}): ServiceModule {
  const path = options.path ?? "/api/v1/graphql";
  const tags = options.tags ?? ["GraphQL"];
  return {
    name: "graphql",
    start(context: ServiceContext): void {
      // Found at start-up rather than as a 500 on the first query.
      if (registeredEntities(context).length === 0) {
        throw new ConfigurationError("withGraphql() serves the withEntity tables (and plugin entities) and this service has none: add withEntity(...) or drop withGraphql()");
      }
    },
    routes(context: ServiceContext): AnyElysia {
      let handle: Promise<Handle> | undefined;
      const serve = ({ request, body }: { request: Request; body: unknown }): Promise<Response> => {
        handle ??= createGraphqlHandler(context);
        handle.catch(() => (handle = undefined));
        return handle.then((run) => run(request, body));
      };
      const app = new Elysia();
      const doc = {
        summary: "GraphQL",
        description: "GraphQL over HTTP: `{\"query\", \"variables\"?, \"operationName\"?}`; queries also by GET with `?query=`. " +
          "One list query and one by-id query per entity, and create/update/patch/delete mutations.",
        tags,
        body: GraphqlRequestSchema,
        response: GraphqlResponseSchema,
      };
      addRoute(app, "POST", path, serve, { detail: withPermission(routeDetail(doc), AUTHENTICATED) });
      const { body: _, ...getDoc } = doc;
      const query = Type.Object({ query: Type.String(), variables: Type.Optional(Type.String({ description: "JSON object" })), operationName: Type.Optional(Type.String()) });
      addRoute(app, "GET", path, serve, { detail: withPermission(routeDetail({ ...getDoc, summary: "GraphQL query (GET)", query }), AUTHENTICATED) });
      return app;
    },
  };
}
