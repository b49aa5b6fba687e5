/**
 * A config service that tells another system about every new config: at
 * start-up it registers one webhook for `entity.created` on configs, and each
 * config created afterwards is POSTed to `WEBHOOK_URL`, signed per Standard
 * Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), through
 * the durable job queue with retries.
 *
 *   WEBHOOK_URL=https://example.org/hooks WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw bun examples/webhooks.ts
 *   # or: deno run -A examples/webhooks.ts (same variables)
 *
 *   curl -H 'content-type: application/json' -d '{"name":"baseline","data":{}}' localhost:8000/api/v1/config
 *   curl localhost:8000/api/v1/webhooks                        # the registered webhook (never its secret)
 *   curl localhost:8000/api/v1/webhooks/<id>/deliveries        # status, attempts, response code
 *
 * A receiver checks each request with `verifyWebhook(secret, request.headers, body)`.
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default `sqlite:./webhooks.db`),
 * `WEBHOOK_URL` (required), `WEBHOOK_SECRET` (required, `whsec_<base64>`: the decoded bytes are the HMAC key).
 */
import { Type } from "@sinclair/typebox";
import { ServiceBuilder, type WebhookManager } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const url = env.WEBHOOK_URL;
const secret = env.WEBHOOK_SECRET;
if (!url || !secret) throw new Error("Set WEBHOOK_URL and WEBHOOK_SECRET (whsec_<base64>) to start this example");

await new ServiceBuilder({
  info: { display_name: "Webhooks example", version: "1.0.0", summary: "Posts every new config to a webhook" },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./webhooks.db",
})
  .withLogging()
  .withHealth()
  .withConfig(Type.Object({ threshold: Type.Number({ default: 0.5 }) }, { title: "ThresholdConfig" }))
  .withJobs()
  .withWebhooks()
  .onStartup(async (context) => {
    // Registered once: a restart updates the webhook with this URL instead of adding another.
    const webhooks = context.get<WebhookManager>("webhooks");
    const [existing] = await webhooks.list({ filter: { kind: "compare", field: "url", op: "eq", value: url } });
    const webhook = { url, event_types: ["entity.created"], collections: ["configs"], secret };
    if (existing) await webhooks.update(existing.id as string, webhook);
    else await webhooks.create(webhook);
  })
  .listen(Number(env.PORT ?? 8000));
