/**
 * examples/ecommerce.ts: placing an order takes the stock of every line in
 * one transaction or nothing; two shoppers racing for the last items never
 * oversell, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { createShop } from "../../examples/ecommerce.ts";
import { call, json } from "../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`the e-commerce example on ${store.name}`, () => {
    let app: ServiceApp;

    before(async () => {
      const db = await store.open();
      await db.close();
      app = await createShop(store.url()).withSettings({ env: {} }).build();
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    const stockOf = async (sku: string): Promise<number> =>
      (await json<{ stock: number }[]>(await call(app, "GET", `/api/v1/products?sku=${sku}`), 200))[0]!.stock;

    it("places an order: stock goes down, the order records prices and the total", async () => {
      await json(await call(app, "POST", "/api/v1/products", { sku: "TEA-1", name: "Tea", price: 4.5, stock: 5 }), 201);
      await json(await call(app, "POST", "/api/v1/products", { sku: "CUP-1", name: "Cup", price: 7.25, stock: 2 }), 201);
      const order = await json(await call(app, "POST", "/api/v1/orders/$place", {
        customer: "ada",
        lines: [{ sku: "TEA-1", quantity: 2 }, { sku: "CUP-1", quantity: 1 }],
      }), 201);
      assert.equal(order.total, 16.25);
      assert.equal(order.status, "placed");
      assert.equal(await stockOf("TEA-1"), 3);
      assert.equal(await stockOf("CUP-1"), 1);
    });

    it("takes nothing when one line cannot be served: a 409 problem, stock and orders unchanged", async () => {
      const before = (await json<unknown[]>(await call(app, "GET", "/api/v1/orders"), 200)).length;
      const problem = await json(await call(app, "POST", "/api/v1/orders/$place", {
        customer: "bob",
        lines: [{ sku: "TEA-1", quantity: 1 }, { sku: "CUP-1", quantity: 5 }],
      }), 409);
      assert.equal(problem.type, "urn:chapkit:error:conflict");
      assert.equal(await stockOf("TEA-1"), 3);
      assert.equal(await stockOf("CUP-1"), 1);
      assert.equal((await json<unknown[]>(await call(app, "GET", "/api/v1/orders"), 200)).length, before);
      await json(await call(app, "POST", "/api/v1/orders/$place", { customer: "bob", lines: [{ sku: "NOPE", quantity: 1 }] }), 404);
      await json(await call(app, "POST", "/api/v1/orders/$place", { customer: "bob", lines: [] }), 422);
    });

    it("never oversells when shoppers race for the last items", async () => {
      await json(await call(app, "POST", "/api/v1/products", { sku: "LAST-1", name: "Last ones", price: 1, stock: 3 }), 201);
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        call(app, "POST", "/api/v1/orders/$place", { customer: `shopper-${i}`, lines: [{ sku: "LAST-1", quantity: 1 }] })
      ));
      const statuses = answers.map((answer) => answer.status).sort();
      await Promise.all(answers.map((answer) => answer.body?.cancel()));
      assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409, 409, 409]);
      assert.equal(await stockOf("LAST-1"), 0);
      const placed = await json<{ lines: { sku: string }[] }[]>(await call(app, "GET", "/api/v1/orders"), 200);
      assert.equal(placed.filter((order) => order.lines[0]!.sku === "LAST-1").length, 3);
    });
  });
}
