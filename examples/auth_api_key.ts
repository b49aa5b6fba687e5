/**
 * A service where every route but the public ones (landing page, docs,
 * health, info) needs an API key. Keys come from the environment and act as
 * administrators; they can issue narrower keys for other clients.
 *
 *   CHAPKIT_API_KEYS=dev-key-change-me bun examples/auth_api_key.ts
 *   # or: CHAPKIT_API_KEYS=dev-key-change-me deno run -A examples/auth_api_key.ts
 *
 *   curl -i localhost:8000/api/v1/config                                   # 401
 *   curl -H 'X-API-Key: dev-key-change-me' localhost:8000/api/v1/config     # 200
 *   curl -H 'X-API-Key: dev-key-change-me' -H 'content-type: application/json' \
 *        -d '{"name":"dashboard","role":"viewer","expires_in":86400}' localhost:8000/api/v1/auth/keys
 *        # → {"key":"ck_…", …}: shown once; a viewer key reads but cannot write (403)
 *
 * Environment: `PORT` (default 8000), `CHAPKIT_API_KEYS` (comma-separated) or
 * `CHAPKIT_API_KEY_FILE` (one key a line), `DATABASE_URL` (default
 * `sqlite:./auth_api_key.db`).
 */
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

if (!env.CHAPKIT_API_KEYS && !env.CHAPKIT_API_KEY_FILE) {
  throw new Error("Set CHAPKIT_API_KEYS (comma-separated) or CHAPKIT_API_KEY_FILE to start this example");
}

const service = await new ServiceBuilder({
  info: { display_name: "API Key Service", version: "1.0.0", summary: "Every route needs an X-API-Key" },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./auth_api_key.db",
})
  .withLogging()
  .withHealth()
  .withMonitoring()
  .withSystem()
  .withLandingPage()
  .withConfig(Type.Object({ threshold: Type.Number({ default: 0.5 }) }, { title: "ThresholdConfig" }))
  .withAuth()
  .listen(Number(env.PORT ?? 8000));

console.log(`Listening on ${service.url}; send X-API-Key with every request but /, /docs, health and info`);
