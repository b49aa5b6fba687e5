/** examples/webhooks.ts registers its webhook at start-up and delivers a new config, signed, to WEBHOOK_URL. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { verifyWebhook } from "../../src/modules/webhooks/signature.ts";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import { type ServiceProcess, startService } from "../_support/service-process.ts";
import { sqliteFileStore } from "../_support/stores.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const store = sqliteFileStore();
let receiver: RunningServer | undefined;
let service: ServiceProcess | undefined;
after(async () => {
  await service?.stop();
  await receiver?.stop(100);
  await store.cleanup();
});

test("a config created through the example reaches the webhook receiver, signed", async () => {
  const received: { headers: Headers; body: string }[] = [];
  receiver = await serve(async (request) => {
    received.push({ headers: request.headers, body: await request.text() });
    return new Response(null, { status: 204 });
  }, { port: 0 });
  const script = new URL("../../examples/webhooks.ts", import.meta.url).pathname;
  service = await startService(script, {
    PORT: "0",
    LOG_FORMAT: "json",
    DATABASE_URL: store.url(),
    WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hooks`,
    WEBHOOK_SECRET: SECRET,
  }, { ready: /"url":"http:\/\/127\.0\.0\.1:(\d+)"/ });
  assert.ok(service.port, service.output());
  const response = await fetch(`${service.url}/api/v1/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "baseline", data: {} }),
  });
  assert.equal(response.status, 201);
  while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const [delivery] = received;
  assert.ok(verifyWebhook(SECRET, delivery!.headers, delivery!.body));
  const body = JSON.parse(delivery!.body) as { type: string; data: { collection: string; entity: { name: string } } };
  assert.equal(body.type, "entity.created");
  assert.equal(body.data.collection, "configs");
  assert.equal(body.data.entity.name, "baseline");
});
