/**
 * examples/two_services.ts over real HTTP: an order created in the orders
 * service reaches the warehouse as a signed webhook through the job queue;
 * the warehouse reads the order back and records one shipment; a forged or
 * replayed delivery changes nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { signWebhook } from "../../src/modules/webhooks/mod.ts";
import { createOrders, createWarehouse } from "../../examples/two_services.ts";
import { sqliteFileStore } from "../_support/stores.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async function until<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("two services talking through webhooks and resilient calls", () => {
  const ordersStore = sqliteFileStore();
  const warehouseStore = sqliteFileStore();
  let orders: ServiceApp;
  let warehouse: ServiceApp;
  let ordersServer: RunningServer;
  let warehouseServer: RunningServer;
  let ordersUrl: string;
  let warehouseUrl: string;

  before(async () => {
    await (await ordersStore.open()).close();
    await (await warehouseStore.open()).close();
    // Ports first: each service needs the other's address.
    let ordersApp: ServiceApp | undefined;
    let warehouseApp: ServiceApp | undefined;
    ordersServer = await serve((request) => ordersApp!.fetch(request), { port: 0, hostname: "127.0.0.1" });
    warehouseServer = await serve((request) => warehouseApp!.fetch(request), { port: 0, hostname: "127.0.0.1" });
    ordersUrl = `http://127.0.0.1:${ordersServer.port}`;
    warehouseUrl = `http://127.0.0.1:${warehouseServer.port}`;
    warehouseApp = warehouse = await createWarehouse(warehouseStore.url(), ordersUrl, SECRET).withSettings({ env: {} }).build();
    ordersApp = orders = await createOrders(ordersStore.url(), `${warehouseUrl}/api/v1/inbox`, SECRET).withSettings({ env: {} }).build();
  });
  after(async () => {
    await ordersServer.stop(1000);
    await warehouseServer.stop(1000);
    await orders.chapkit.close();
    await warehouse.chapkit.close();
    await ordersStore.cleanup();
    await warehouseStore.cleanup();
  });

  const shipments = async (): Promise<{ order_id: string; customer: string; items: string[]; delivery: string }[]> =>
    await (await fetch(`${warehouseUrl}/api/v1/shipments`)).json();

  it("ships each new order once, reading it back from the orders service", async () => {
    const created = await fetch(`${ordersUrl}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ customer: "ada", items: ["tea", "cups"] }),
    });
    assert.equal(created.status, 201);
    const order = await created.json() as { id: string };
    const [shipment] = await until(async () => {
      const all = (await shipments()).filter((s) => s.order_id === order.id);
      return all.length > 0 ? all : undefined;
    });
    assert.deepEqual({ customer: shipment!.customer, items: shipment!.items }, { customer: "ada", items: ["tea", "cups"] });
    const deliveries = await until(async () => {
      const [hook] = await (await fetch(`${ordersUrl}/api/v1/webhooks`)).json() as { id: string }[];
      const list = await (await fetch(`${ordersUrl}/api/v1/webhooks/${hook!.id}/deliveries`)).json() as { status: string }[];
      return list.some((d) => d.status === "delivered" || d.status === "succeeded") ? list : undefined;
    });
    assert.ok(deliveries.length >= 1);
  });

  it("refuses a forged or stale delivery and ignores a replay of a handled one", async () => {
    const before = (await shipments()).length;
    const body = JSON.stringify({ type: "entity.created", timestamp: new Date().toISOString(), data: { collection: "orders", id: "01K79YAHJ7BR4E87VVTG8FNBMA", entity: {} } });
    const now = Math.floor(Date.now() / 1000);
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${warehouseUrl}/api/v1/inbox`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    const forged = await post({ "webhook-id": "msg_forged", "webhook-timestamp": String(now), "webhook-signature": "v1,AAAA" });
    assert.equal(forged.status, 401);
    const stale = await post({ "webhook-id": "msg_stale", "webhook-timestamp": String(now - 3600), "webhook-signature": signWebhook(SECRET, "msg_stale", now - 3600, body) });
    assert.equal(stale.status, 401);
    const [handled] = await shipments();
    const replay = await post({ "webhook-id": handled!.delivery, "webhook-timestamp": String(now), "webhook-signature": signWebhook(SECRET, handled!.delivery, now, body) });
    assert.equal(replay.status, 200);
    assert.equal((await shipments()).length, before);
  });
});
