/**
 * `/api/v1/$ws` over a real socket: subscribe with a filter, receive
 * matching events, unsubscribe; errors come back as problems; subscriptions
 * need the collection's read permission under auth.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../../src/core/events/types.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";

interface Message {
  type: string;
  id?: string;
  subscription?: string;
  event?: ServiceEvent;
  problem?: { status: number; type: string };
}

/** A client that queues what it receives. */
async function connect(url: string, protocols?: string[]): Promise<{ send(m: unknown): void; next(): Promise<Message>; close(): void }> {
  const ws = new WebSocket(url, protocols);
  const queue: Message[] = [];
  const waiting: ((m: Message) => void)[] = [];
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as Message;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
  return {
    send: (m) => ws.send(JSON.stringify(m)),
    next: () => queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve)),
    close: () => ws.close(),
  };
}

async function start(auth: boolean): Promise<{ app: ServiceApp; server: RunningServer; base: string }> {
  const builder = new ServiceBuilder({ info: { display_name: "WS" }, settings: auth ? { auth: { apiKeys: ["ws-admin-key-0123456789"] } } : {} })
    .withSettings({ env: {} })
    .withConfig(Type.Object({ k: Type.Integer({ default: 3 }) }))
    .withRealtime();
  const app = await (auth ? builder.withAuth() : builder).build();
  const server = await serve((request) => app.handle(request), { port: 0 });
  return { app, server, base: `127.0.0.1:${server.port}` };
}

describe("the realtime WebSocket", () => {
  let service: Awaited<ReturnType<typeof start>>;
  before(async () => {
    service = await start(false);
  });
  after(async () => {
    await service.server.stop(500);
    await service.app.chapkit.close();
  });

  const create = (name: string, k: number): Promise<Response> =>
    fetch(`http://${service.base}/api/v1/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, data: { k } }),
    });

  test("a subscription receives the matching events until it is cancelled", async () => {
    const client = await connect(`ws://${service.base}/api/v1/$ws`);
    try {
      client.send({ type: "subscribe", id: "big", collection: "configs", filter: "data.k > 5" });
      assert.deepEqual(await client.next(), { type: "subscribed", id: "big" });
      await create("small", 1);
      const created = await (await create("large", 9)).json() as { id: string };
      const message = await client.next();
      assert.equal(message.type, "event");
      assert.equal(message.subscription, "big");
      assert.equal(message.event!.type, "entity.created");
      assert.equal(message.event!.data.id, created.id);
      client.send({ type: "unsubscribe", id: "big" });
      assert.deepEqual(await client.next(), { type: "unsubscribed", id: "big" });
      await create("later", 20);
      client.send({ type: "unsubscribe", id: "probe" });
      assert.deepEqual(await client.next(), { type: "unsubscribed", id: "probe" }, "no event arrived after unsubscribing");
    } finally {
      client.close();
    }
  });

  test("bad messages, unknown collections and bad filters answer problems", async () => {
    const client = await connect(`ws://${service.base}/api/v1/$ws`);
    try {
      client.send("not json" as unknown);
      client.send({ type: "subscribe", id: "x", collection: "nope" });
      client.send({ type: "subscribe", id: "y", collection: "configs", filter: "missing = 1" });
      client.send({ type: "dance", id: "z" });
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const message = await client.next();
        assert.equal(message.type, "error");
        statuses.push([message.id ?? null, message.problem!.status]);
      }
      assert.deepEqual(statuses, [[null, 400], ["x", 404], ["y", 400], ["z", 422]]);
    } finally {
      client.close();
    }
  });

  test("a plain GET without the WebSocket handshake answers 400", async () => {
    const response = await fetch(`http://${service.base}/api/v1/$ws`);
    assert.equal(response.status, 400);
    await response.body?.cancel();
  });
});

describe("the realtime WebSocket under auth", () => {
  let service: Awaited<ReturnType<typeof start>>;
  before(async () => {
    service = await start(true);
  });
  after(async () => {
    await service.server.stop(500);
    await service.app.chapkit.close();
  });

  test("the handshake needs credentials", async () => {
    const response = await fetch(`http://${service.base}/api/v1/$ws`, { headers: { upgrade: "websocket", connection: "Upgrade" } });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });
});
