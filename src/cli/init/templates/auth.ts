/** `auth`: every route but health, info and docs needs an API key. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT, HEALTH_TEST, testPrelude } from "./_test-prelude.ts";

/** `chapkit init --template auth`: configs behind API keys (`X-API-Key`), keys issued over the API. */
export const authTemplate: ProjectTemplate = {
  name: "auth",
  description: "configs behind API keys (X-API-Key), with keys issued over the API",
  usage: "Every route but `/`, `/docs`, health and info needs `X-API-Key`. Keys in `CHAPKIT_API_KEYS` " +
    "(comma-separated) are administrators; they issue narrower keys with `POST /api/v1/auth/keys`.",
  env: { CHAPKIT_API_KEYS: "dev-key-change-me" },
  main: ({ name, title }) => `/**
 * ${title}: configs behind API keys.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db),
 * CHAPKIT_API_KEYS (comma-separated administrator keys, required).
 */
${ENV_IMPORT}
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "chapkit";

/** The data every config of this service carries. */
export const AppConfig = Type.Object({ threshold: Type.Number({ default: 0.5 }) }, { title: "AppConfig" });

/** Administrator keys: CHAPKIT_API_KEYS, comma-separated. */
export function adminKeys(): string[] {
  return (process.env.CHAPKIT_API_KEYS ?? "").split(",").map((key) => key.trim()).filter(Boolean);
}

/** The service, not yet listening; main.test.ts builds it in-process with its own key. */
export function createService(
  databaseUrl = process.env.DATABASE_URL ?? "sqlite:./${name}.db",
  keys: string[] = adminKeys(),
): ServiceBuilder {
  if (keys.length === 0) throw new Error("Set CHAPKIT_API_KEYS (comma-separated) to start this service");
  return new ServiceBuilder({ info: { display_name: "${title}", version: "0.1.0" }, databaseUrl })
    .withLogging()
    .withHealth()
    .withSystem()
    .withLandingPage()
    .withConfig(AppConfig)
    .withAuth({ staticKeys: keys });
}

if (import.meta.main) {
  const service = await createService().listen(Number(process.env.PORT ?? 8000));
  console.log(\`${title} listening on \${service.url}; send X-API-Key with every request but health and info\`);
}
`,
  test: () => `${testPrelude(`"sqlite::memory:", ["test-key"]`)}${HEALTH_TEST}
test("refuses a request without a key with 401", async () => {
  const response = await client.get("/api/v1/config");
  assert.equal(response.status, 401);
});

test("serves configs to a request with an administrator key", async () => {
  const response = await client.withHeaders({ "X-API-Key": "test-key" }).get("/api/v1/config");
  assert.equal(response.status, 200);
});
`,
};
