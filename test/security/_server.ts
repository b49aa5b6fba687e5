/**
 * The service the security suite attacks: every module, auth on, shell tasks
 * limited to an allowlist, small body limits. Prints `READY <port>`.
 */
import process from "node:process";
import { Type } from "@sinclair/typebox";
import { openDatabase } from "../../src/db/open.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

export const ADMIN_KEY = "security-suite-admin-key-0123456789abcdef";
export const SHELL_COMMANDS = ["env", "sleep 6 & echo x", "sleep 30"];

if (import.meta.main) {
  const env = process.env;
  const db = await openDatabase(env.DATABASE_URL!, env.PG_SCHEMA ? { postgres: { schema: env.PG_SCHEMA } } : {});
  const running = await new ServiceBuilder({
    info: { display_name: `Target</title><script>window.pwned=1</script>` },
    bodyLimits: { json: 64 * 1024 },
    allowedOrigins: ["https://app.example.org"],
    settings: { http: { trustProxy: true } },
  })
    .withDatabase(db)
    .withHealth()
    .withConfig(Type.Object({}, { additionalProperties: true }))
    .withArtifacts({ hierarchy: { name: "security", level_labels: {} }, enableConfigLinking: true })
    .withJobs()
    .withTasks({ shell: { commands: SHELL_COMMANDS } })
    .withAuth({
      jwtSecret: "security-suite-jwt-secret-0123456789abcdef",
      staticKeys: [ADMIN_KEY],
      passwordCost: { ln: 10, r: 8, p: 1 },
      loginPolicy: { slowDownAfter: 3, backoffSeconds: 60, lockAfter: 100 },
      roles: { keymaster: { permissions: ["auth:admin"] } },
      env: {},
    })
    .withLandingPage()
    .listen(0, { graceMs: 2000 });
  console.log(`READY ${running.port} ${running.url}`);
}
