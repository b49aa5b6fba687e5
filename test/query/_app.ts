import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { createLogger } from "../../src/core/logging.ts";
import { Manager } from "../../src/core/manager.ts";
import { entityInputSchema, entityOutputSchema } from "../../src/core/schema.ts";
import type { Driver } from "../../src/db/driver.ts";
import { crudRouter } from "../../src/http/crud/crud-router.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { jsonBody } from "../../src/http/json-body.ts";
import { requestContext } from "../../src/http/request-context.ts";
import { closeRoutes } from "../../src/http/routing.ts";
import { type ItemRecord, seedItems } from "./_fixture.ts";

const fields = {
  name: Type.String(),
  level: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  active: Type.Boolean({ default: false }),
  tag: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  seen_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  data: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
};
const ItemIn = entityInputSchema("ItemIn", fields);
const ItemOut = entityOutputSchema("ItemOut", fields);

/** The items manager type. */
export type ItemManager = Manager<ItemRecord, typeof ItemIn, typeof ItemOut>;

/** An app serving the seeded items table at `/api/v1/items` with the chapkit plumbing. */
export async function itemsApp(db: Driver): Promise<{ app: Elysia; items: ItemManager; rows: ItemRecord[] }> {
  const { repo, rows } = await seedItems(db);
  const items = new Manager({ repository: repo, input: ItemIn, output: ItemOut });
  const logger = createLogger({ write: () => {} });
  const app = new Elysia()
    .use(requestContext({ logger, maxBodyBytes: 8 * 1024 * 1024 }))
    .use(errorHandler({ logger }))
    .use(jsonBody({ maxBodyBytes: 8 * 1024 * 1024 }))
    .use(crudRouter({ prefix: "/api/v1/items", manager: items }));
  return { app: closeRoutes(app) as unknown as Elysia, items, rows };
}
