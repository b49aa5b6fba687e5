import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import type { AuthManager } from "../../../src/modules/auth/manager.ts";
import { AUTH_KEY, type AuthOptions } from "../../../src/modules/auth/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";

/** The static admin key of test services. */
export const ADMIN_KEY = "static-admin-key-0123456789abcdef0123456789";

/** The JWT secret of test services. */
export const JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef";

/** A cheap scrypt cost so tests stay fast (the format records it). */
export const TEST_COST = { ln: 10, r: 8, p: 1 };

/** A built test service and its auth manager. */
export interface AuthTestService {
  app: ServiceApp;
  auth: AuthManager;
  /** Sends a request through `app.handle`. */
  call(method: string, path: string, init?: { key?: string; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** Builds a service with every module the builder offers, plus auth, on the given store. */
export async function authService(
  options: { db?: Driver; auth?: AuthOptions; logs?: string[]; logLevel?: "debug" | "info" } = {},
): Promise<AuthTestService> {
  const builder = new ServiceBuilder({ info: { display_name: "Auth test" } })
    .withHealth()
    .withSystem()
    .withLandingPage()
    .withConfig(Type.Object({ min_samples: Type.Integer({ default: 3 }) }, { title: "TestConfig" }))
    .withArtifacts({ hierarchy: { name: "auth_test", level_labels: { 0: "root" } }, enableConfigLinking: true })
    .withJobs()
    .withTasks({ shell: true })
    .withAuth({ jwtSecret: JWT_SECRET, staticKeys: [ADMIN_KEY], passwordCost: TEST_COST, env: {}, ...options.auth });
  if (options.db) builder.withDatabase(options.db);
  const logs = options.logs;
  builder.withLogging({ format: "json", level: options.logLevel ?? "debug", write: (line) => logs?.push(line) });
  const app = await builder.build();
  const auth = app.chapkit.context.get<AuthManager>(AUTH_KEY);
  return {
    app,
    auth,
    call(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== undefined) headers["x-api-key"] = init.key;
      if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
      let body: string | undefined;
      if (init.body !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(init.body);
      }
      return app.handle(new Request(`http://chapkit.test${path}`, { method, headers, body }));
    },
    close: () => app.chapkit.close(),
  };
}
