/**
 * `POST /api/v1/$batch`: several requests in one, answered in order. Each
 * sub-request goes through the whole app (auth, rate limits, validation) as
 * if sent alone, with the batch's credentials unless it names its own;
 * `"atomic": true` runs them in one store transaction, all or nothing.
 *
 * @module
 */
import { type Static, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { ValidationError } from "../core/errors.ts";
import { validateValue } from "../core/validation.ts";
import { clientAddressOf, rememberClientAddress } from "../runtime/client-address.ts";
import type { ServiceContext, ServiceModule } from "./module.ts";
import { routeDetail } from "./route-doc.ts";
import { SERVICE_APP_KEY } from "./service-app-key.ts";

export { SERVICE_APP_KEY } from "./service-app-key.ts";

/** Options of {@link batchModule}. */
export interface BatchOptions {
  /** Path (default `/api/v1/$batch`). */
  path?: string;
  /** Sub-requests accepted per batch at most (default 50). */
  maxRequests?: number;
}

const SubRequest = Type.Object({
  method: Type.Union(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].map((m) => Type.Literal(m)), { description: "HTTP method" }),
  path: Type.String({ pattern: "^/", maxLength: 4000, description: "Path and query, relative to the service (e.g. `/api/v1/config?size=5`)" }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Headers; credentials default to the batch's" })),
  body: Type.Optional(Type.Unknown({ description: "JSON body" })),
});

const BatchBody = Type.Object({
  requests: Type.Array(SubRequest, { minItems: 1 }),
  atomic: Type.Optional(Type.Boolean({ description: "Run store writes in one transaction: all or nothing (default false)" })),
}, { title: "BatchRequest" });

const BatchResponse = Type.Object({
  responses: Type.Array(Type.Object({
    status: Type.Integer(),
    headers: Type.Record(Type.String(), Type.String()),
    body: Type.Unknown(),
  })),
}, { title: "BatchResponse" });

type Sub = Static<typeof SubRequest>;

/** One answer in the batch's body. */
interface SubResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const INHERITED = ["authorization", "x-api-key", "cookie", "x-forwarded-for", "accept-language"];

class RolledBack extends Error {}

async function read(response: Response): Promise<SubResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  const text = await response.text();
  let body: unknown = text === "" ? null : text;
  if (text !== "" && /json/.test(response.headers.get("content-type") ?? "")) body = JSON.parse(text);
  return { status: response.status, headers, body };
}

function rolledBack(index: number, failed: number): SubResponse {
  return {
    status: 424,
    headers: { "content-type": "application/problem+json" },
    body: {
      type: "urn:chapkit:error:failed-dependency",
      title: "Failed Dependency",
      status: 424,
      detail: index < failed
        ? `Rolled back: request ${failed} of the atomic batch failed`
        : `Not run: request ${failed} of the atomic batch failed`,
    },
  };
}

/**
 * The batch module (`withBatch()`): `POST /api/v1/$batch` with
 * `{"requests": [{"method", "path", "headers"?, "body"?}], "atomic"?}`,
 * answering `{"responses": [{"status", "headers", "body"}]}` in order.
 * In an atomic batch the first answer of 400 or more rolls every write
 * back; the others then answer 424 `failed-dependency`.
 */
export function batchModule(options: BatchOptions = {}): ServiceModule {
  const path = options.path ?? "/api/v1/$batch";
  const max = options.maxRequests ?? 50;
  return {
    name: "batch",
    routes(context: ServiceContext): AnyElysia {
      const dispatch = (outer: Request, sub: Sub): Promise<Response> => {
        const app = context.get<AnyElysia>(SERVICE_APP_KEY);
        const url = new URL(outer.url);
        const target = new URL(sub.path, url.origin);
        const base = url.pathname.slice(0, url.pathname.length - path.length);
        const headers = new Headers();
        for (const name of INHERITED) {
          const value = outer.headers.get(name);
          if (value !== null) headers.set(name, value);
        }
        for (const [name, value] of Object.entries(sub.headers ?? {})) headers.set(name, value);
        if (sub.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
        const request = new Request(`${url.origin}${base}${target.pathname}${target.search}`, {
          method: sub.method,
          headers,
          ...(sub.body === undefined || sub.method === "GET" || sub.method === "HEAD" ? {} : { body: JSON.stringify(sub.body) }),
        });
        rememberClientAddress(request, clientAddressOf(outer));
        return Promise.resolve(app.handle(request));
      };
      return new Elysia({ name: "chapkit:batch" }).post(path, async ({ body, request }) => {
        const batch = validateValue<Static<typeof BatchBody>>(BatchBody, body);
        if (batch.requests.length > max) {
          throw new ValidationError([{ loc: ["body", "requests"], msg: `At most ${max} requests per batch`, type: "too_long" }]);
        }
        for (const [index, sub] of batch.requests.entries()) {
          if (new URL(sub.path, "http://x").pathname === path) {
            throw new ValidationError([{ loc: ["body", "requests", index, "path"], msg: "A batch cannot contain a batch", type: "value_error" }]);
          }
        }
        if (!batch.atomic) {
          const responses: SubResponse[] = [];
          for (const sub of batch.requests) responses.push(await read(await dispatch(request, sub)));
          return { responses };
        }
        const responses: SubResponse[] = [];
        try {
          await context.db.transaction(async () => {
            for (const sub of batch.requests) {
              const answer = await read(await dispatch(request, sub));
              responses.push(answer);
              if (answer.status >= 400) throw new RolledBack();
            }
          });
        } catch (error) {
          if (!(error instanceof RolledBack)) throw error;
          const failed = responses.length - 1;
          return {
            responses: batch.requests.map((_, index) => index === failed ? responses[failed]! : rolledBack(index, failed)),
          };
        }
        return { responses };
      }, {
        detail: routeDetail({
          summary: "Run several requests",
          description: "Runs each sub-request through the service (auth and rate limits apply to each) and answers them in order; " +
            "`atomic: true` runs their store writes in one transaction, all or nothing.",
          tags: ["batch"],
          body: BatchBody,
          response: BatchResponse,
        }),
      }) as unknown as AnyElysia;
    },
  };
}
