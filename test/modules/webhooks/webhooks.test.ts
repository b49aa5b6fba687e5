/**
 * Webhooks end to end over real HTTP: a receiver gets Standard Webhooks
 * signed deliveries of the selected events, failures are retried by the job
 * queue, the delivery log shows each attempt, replays resend; bad input is a
 * problem and the secret is never answered. On PostgreSQL two instances
 * deliver each event once.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { signWebhook, verifyWebhook } from "../../../src/modules/webhooks/signature.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../../_support/stores.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

interface Received {
  headers: Headers;
  body: string;
}

/** A receiver that records each POST and answers the next queued status (200 when none is queued). */
async function receiver(): Promise<{ url: string; received: Received[]; answers: number[]; server: RunningServer }> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = await serve(async (request) => {
    received.push({ headers: request.headers, body: await request.text() });
    return new Response(null, { status: answers.shift() ?? 200 });
  }, { port: 0 });
  return { url: `http://127.0.0.1:${server.port}/hook`, received, answers, server };
}

function service(url: string): Promise<ServiceApp> {
  return new ServiceBuilder({ info: { display_name: "Webhooks" } })
    .withSettings({ env: {} })
    .withDatabase(url)
    .withConfig(Type.Object({ k: Type.Integer({ default: 3 }) }))
    .withJobs({ queuePollMs: 20 })
    .withWebhooks({ maxAttempts: 3, backoff: { delay_ms: 10, factor: 1, jitter: false } })
    .build();
}

async function call(app: ServiceApp, method: string, path: string, body?: unknown): Promise<Response> {
  return await app.handle(new Request(`http://local${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  }));
}

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("signatures follow the Standard Webhooks test vector", () => {
  const body = '{"test": 2432232314}';
  const signature = signWebhook(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  assert.equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  const headers = new Headers({ "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": `v1,bad ${signature}` });
  assert.equal(verifyWebhook(SECRET, headers, body), true);
  assert.equal(verifyWebhook(SECRET, headers, `${body} `), false);
});

for (const make of [sqliteFileStore, postgresStore]) {
  const store: TestStore = make();
  describe(`webhooks on ${store.name}`, () => {
    let hook: Awaited<ReturnType<typeof receiver>>;
    let app: ServiceApp;
    let webhookId: string;

    before(async () => {
      await (await store.open()).close();
      hook = await receiver();
      app = await service(store.url());
      const created = await call(app, "POST", "/api/v1/webhooks", {
        url: hook.url,
        event_types: ["entity.created"],
        collections: ["configs"],
        filter: "data.k >= 10",
        secret: SECRET,
      });
      assert.equal(created.status, 201);
      const body = await created.json() as Record<string, unknown>;
      assert.equal("secret" in body, false, "the secret is never answered");
      webhookId = body.id as string;
    });
    after(async () => {
      await app.chapkit.close();
      await hook.server.stop(100);
      await store.cleanup();
    });

    test("a selected event is POSTed once, signed, in the Standard Webhooks body, and logged as succeeded", async () => {
      hook.received.length = 0;
      await call(app, "POST", "/api/v1/config", { name: "small", data: { k: 1 } });
      const config = await (await call(app, "POST", "/api/v1/config", { name: "big", data: { k: 12 } })).json() as { id: string };
      const [got] = await until(() => hook.received, (r) => r.length >= 1);
      assert.ok(verifyWebhook(SECRET, got!.headers, got!.body));
      const body = JSON.parse(got!.body) as { type: string; timestamp: string; data: { collection: string; id: string; entity: unknown } };
      assert.deepEqual(Object.keys(body).sort(), ["data", "timestamp", "type"]);
      assert.equal(body.type, "entity.created");
      assert.deepEqual(body.data, { collection: "configs", id: config.id, entity: config });
      const log = await until(
        async () => await (await call(app, "GET", `/api/v1/webhooks/${webhookId}/deliveries`)).json() as Record<string, unknown>[],
        (rows) => rows.some((row) => row.status === "succeeded"),
      );
      assert.equal(log.length, 1);
      assert.equal(log[0]!.attempts, 1);
      assert.equal(log[0]!.response_code, 200);
      assert.equal(log[0]!.event_id, got!.headers.get("webhook-id"));
    });

    test("a failed attempt is retried with back-off until the receiver accepts it", async () => {
      hook.received.length = 0;
      hook.answers.push(500, 503);
      await call(app, "POST", "/api/v1/config", { name: "flaky", data: { k: 50 } });
      const received = await until(() => hook.received, (r) => r.length >= 3);
      assert.equal(new Set(received.map((r) => r.headers.get("webhook-id"))).size, 1, "every attempt carries the same webhook-id");
      const log = await until(
        async () => await (await call(app, "GET", `/api/v1/webhooks/${webhookId}/deliveries`)).json() as Record<string, unknown>[],
        (rows) => rows.some((row) => row.status === "succeeded" && row.attempts === 3),
      );
      assert.equal(log[0]!.response_code, 200);
    });

    test("a delivery can be replayed: the same webhook-id is sent again", async () => {
      const [latest] = await (await call(app, "GET", `/api/v1/webhooks/${webhookId}/deliveries`)).json() as { id: string; event_id: string }[];
      hook.received.length = 0;
      const replayed = await call(app, "POST", `/api/v1/webhooks/${webhookId}/deliveries/${latest!.id}/$replay`);
      assert.equal(replayed.status, 202);
      const [got] = await until(() => hook.received, (r) => r.length >= 1);
      assert.equal(got!.headers.get("webhook-id"), latest!.event_id);
      assert.equal((await call(app, "POST", `/api/v1/webhooks/${webhookId}/deliveries/01K79YAHJ7BR4E87VVTG8FNBMA/$replay`)).status, 404);
    });

    test("bad webhooks are refused with a problem and nothing is stored", async () => {
      const before = await (await call(app, "GET", "/api/v1/webhooks")).json() as unknown[];
      const badUrl = await call(app, "POST", "/api/v1/webhooks", { url: "ftp://example.org/x", secret: SECRET });
      assert.equal(badUrl.status, 422);
      const badFilter = await call(app, "POST", "/api/v1/webhooks", { url: hook.url, secret: SECRET, filter: "k = = 1" });
      assert.equal(badFilter.status, 400);
      assert.match(badFilter.headers.get("content-type") ?? "", /problem\+json/);
      const noSecret = await call(app, "POST", "/api/v1/webhooks", { url: hook.url });
      assert.equal(noSecret.status, 422);
      assert.equal((await (await call(app, "GET", "/api/v1/webhooks")).json() as unknown[]).length, before.length);
    });

    if (store.kind === "postgres") {
      test("two instances on one store deliver each event once", async () => {
        const other = await service(store.url());
        try {
          const earlier = (await (await call(app, "GET", `/api/v1/webhooks/${webhookId}/deliveries`)).json() as unknown[]).length;
          hook.received.length = 0;
          await call(other, "POST", "/api/v1/config", { name: "elsewhere", data: { k: 99 } });
          await until(() => hook.received, (r) => r.length >= 1);
          const log = await until(
            async () => await (await call(app, "GET", `/api/v1/webhooks/${webhookId}/deliveries`)).json() as Record<string, unknown>[],
            (rows) => rows.length > earlier && rows.every((row) => row.status === "succeeded"),
          );
          assert.equal(log.length, earlier + 1);
          assert.equal(hook.received.length, 1);
        } finally {
          await other.chapkit.close();
        }
      });
    }
  });
}
