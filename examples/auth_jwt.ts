/**
 * Users, login and refresh: a first administrator is created from the
 * environment; users log in for a short-lived access token and a single-use
 * refresh token.
 *
 *   CHAPKIT_JWT_SECRET=$(openssl rand -base64 48) CHAPKIT_ADMIN_USERNAME=admin \
 *   CHAPKIT_ADMIN_PASSWORD='change-me-please' bun examples/auth_jwt.ts
 *
 *   curl -H 'content-type: application/json' -d '{"username":"admin","password":"change-me-please"}' \
 *        localhost:8000/api/v1/auth/login          # → {access_token, refresh_token, expires_in, …}
 *   curl -H "Authorization: Bearer $ACCESS" localhost:8000/api/v1/config
 *   curl -H 'content-type: application/json' -d "{\"refresh_token\":\"$REFRESH\"}" \
 *        localhost:8000/api/v1/auth/refresh        # → a new pair; the old refresh token is spent
 *   curl -H "Authorization: Bearer $ACCESS" -H 'content-type: application/json' \
 *        -d '{"username":"ana","password":"a-long-password","role":"editor"}' localhost:8000/api/v1/auth/users
 *   curl -X POST -H "Authorization: Bearer $ACCESS" localhost:8000/api/v1/auth/logout
 *
 * Environment: `PORT` (default 8000), `CHAPKIT_JWT_SECRET` (≥ 32 characters;
 * without it tokens do not survive a restart), `CHAPKIT_ADMIN_USERNAME`,
 * `CHAPKIT_ADMIN_PASSWORD` (used only while no user exists), `DATABASE_URL`
 * (default `sqlite:./auth_jwt.db`).
 */
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

const service = await new ServiceBuilder({
  info: { display_name: "JWT Service", version: "1.0.0", summary: "Users, sessions and bearer tokens" },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./auth_jwt.db",
})
  .withLogging()
  .withHealth()
  .withMonitoring()
  .withSystem()
  .withLandingPage()
  .withConfig(Type.Object({ threshold: Type.Number({ default: 0.5 }) }, { title: "ThresholdConfig" }))
  .withJobs()
  .withAuth({ accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 7 * 24 * 3600 })
  .listen(Number(env.PORT ?? 8000));

console.log(`Listening on ${service.url}; log in at POST ${service.url}/api/v1/auth/login`);
