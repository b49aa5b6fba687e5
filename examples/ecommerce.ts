/**
 * An e-commerce API: products with stock, orders with lines, and placing an
 * order as one transaction that takes the stock of every line or nothing.
 * Two shoppers racing for the last item: one order is placed, the other is a
 * 409 problem, and stock never goes below zero, on SQLite and PostgreSQL.
 *
 *   bun examples/ecommerce.ts        (PORT, DATABASE_URL)
 *
 *   curl -s localhost:8000/api/v1/products -H 'content-type: application/json' -d '{"sku":"TEA-1","name":"Tea","price":4.5,"stock":3}'
 *   curl -s 'localhost:8000/api/v1/orders/$place' -H 'content-type: application/json' -d '{"customer":"ada","lines":[{"sku":"TEA-1","quantity":2}]}'
 */
import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia, t } from "elysia";
import {
  ConflictError,
  defineEntity,
  entityKey,
  entityManagerOf,
  field,
  NotFoundError,
  ServiceBuilder,
  type ServiceContext,
} from "chapkit";

/** What the shop sells; `stock` is what is left. */
export const Product = defineEntity({
  table: "products",
  fields: {
    sku: field(Type.String({ pattern: "^[A-Z0-9-]{1,32}$" }), { unique: true }),
    name: Type.String({ minLength: 1 }),
    price: Type.Number({ minimum: 0 }),
    stock: Type.Integer({ minimum: 0 }),
  },
  searchable: ["name"],
});

/** A placed order: who, what (lines with the price paid) and the total. */
export const Order = defineEntity({
  table: "orders",
  fields: {
    customer: Type.String({ minLength: 1 }),
    lines: Type.Array(Type.Object({ sku: Type.String(), quantity: Type.Integer({ minimum: 1 }), price: Type.Number() })),
    total: Type.Number({ minimum: 0 }),
    status: Type.Union([Type.Literal("placed"), Type.Literal("shipped"), Type.Literal("canceled")], { default: "placed" }),
  },
});

// Elysia validates the body, so its schema is built with Elysia's own TypeBox (`t`):
// under Deno a schema from the `@sinclair/typebox` import is not the type Elysia's `body` expects.
const PlaceOrder = t.Object({
  customer: t.String({ minLength: 1 }),
  lines: t.Array(t.Object({ sku: t.String(), quantity: t.Integer({ minimum: 1, maximum: 1000 }) }), { minItems: 1, maxItems: 100 }),
});

/** `POST /api/v1/orders/$place`: takes the stock of every line and records the order, all or nothing. */
function orderRoutes(context: ServiceContext): AnyElysia {
  const products = entityManagerOf(context, Product);
  const orders = entityManagerOf(context, Order);
  return new Elysia().post("/api/v1/orders/$place", async ({ body, set }) => {
    const order = await context.db.transaction(async (tx) => {
      const lines = [];
      for (const line of body.lines) {
        const [product] = await products.list({ filter: { kind: "compare", field: "sku", op: "eq", value: line.sku } });
        if (!product) throw new NotFoundError(`No product with SKU ${line.sku}`);
        // One conditional UPDATE: concurrent orders cannot both take the last item.
        const taken = await tx.exec("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?", [line.quantity, product.id, line.quantity]);
        if (taken.changes !== 1) throw new ConflictError(`Only ${product.stock} of ${line.sku} left; nothing was ordered`);
        lines.push({ sku: line.sku, quantity: line.quantity, price: product.price });
      }
      const total = Math.round(lines.reduce((sum, line) => sum + line.price * line.quantity, 0) * 100) / 100;
      return await orders.create({ customer: body.customer, lines, total });
    });
    set.status = 201;
    return order;
  }, { body: PlaceOrder, detail: { tags: ["orders"], summary: "Place an order: stock of every line is taken, or nothing is" } });
}

/** The shop service on `databaseUrl`. */
export function createShop(databaseUrl = "sqlite::memory:"): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "Shop", version: "1.0.0", summary: "Products, stock and orders" }, databaseUrl })
    .withHealth()
    .withEntity(Product)
    .withEntity(Order)
    .module({ name: "order-placing", requires: [entityKey(Product), entityKey(Order)], routes: orderRoutes });
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  await createShop(env.DATABASE_URL ?? "sqlite:./shop.db").listen();
}
