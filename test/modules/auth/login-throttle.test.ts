import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AuthManager } from "../../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../../src/modules/auth/mod.ts";
import type { LoginPolicy } from "../../../src/modules/auth/login-throttle.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { testStores } from "../../_support/stores.ts";
import { ADMIN_KEY, TEST_COST } from "./_service.ts";

const PASSWORD = "correct horse battery staple";

for (const store of testStores()) {
  describe(`login throttling on ${store.name}`, () => {
    const services: ServiceApp[] = [];
    after(async () => {
      for (const app of services) await app.chapkit.close();
      await store.cleanup();
    });

    async function service(policy: Partial<LoginPolicy>): Promise<{ app: ServiceApp; auth: AuthManager }> {
      const app = await new ServiceBuilder({ info: { display_name: "Throttle" }, settings: { http: { trustProxy: true } } })
        .withDatabase(await store.open())
        .withAuth({ jwtSecret: "j".repeat(40), staticKeys: [ADMIN_KEY], passwordCost: TEST_COST, env: {}, loginPolicy: policy })
        .build();
      services.push(app);
      const auth = app.chapkit.context.get<AuthManager>(AUTH_KEY);
      for (const username of ["alice", "bob"]) await auth.users.create({ username, password: PASSWORD });
      return { app, auth };
    }

    const login = (app: ServiceApp, username: string, password: string, from = "10.0.0.1"): Promise<Response> =>
      app.handle(new Request("http://localhost/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": from },
        body: JSON.stringify({ username, password }),
      }));

    const statuses = (responses: Response[]): number[] => responses.map((response) => response.status).sort();

    test("40 concurrent wrong passwords count exactly as 40 sequential ones", async () => {
      const policy = { slowDownAfter: 100, lockAfter: 10, lockSeconds: 900 };
      const sequential = await service(policy);
      const one: Response[] = [];
      for (let i = 0; i < 40; i++) one.push(await login(sequential.app, "alice", "wrong"));
      const concurrent = await service(policy);
      const all = await Promise.all(Array.from({ length: 40 }, () => login(concurrent.app, "alice", "wrong")));
      assert.deepEqual(statuses(all), statuses(one));
      assert.deepEqual(statuses(one), [...Array(10).fill(401), ...Array(30).fill(429)]);
    });

    test("back-off grows per failure and holds under concurrency too", async () => {
      const { app } = await service({ slowDownAfter: 3, backoffSeconds: 60, lockAfter: 100 });
      const all = await Promise.all(Array.from({ length: 20 }, () => login(app, "alice", "wrong")));
      assert.deepEqual(statuses(all), [...Array(3).fill(401), ...Array(17).fill(429)]);
    });

    test("a stranger elsewhere cannot lock a user out", async () => {
      const { app } = await service({ slowDownAfter: 100, lockAfter: 3 });
      for (let i = 0; i < 5; i++) await login(app, "alice", "wrong", "203.0.113.9");
      assert.equal((await login(app, "alice", PASSWORD, "203.0.113.9")).status, 429);
      assert.equal((await login(app, "alice", PASSWORD, "198.51.100.7")).status, 200);
    });

    test("unknown usernames are answered and throttled exactly like known ones", async () => {
      const { app } = await service({ slowDownAfter: 2, backoffSeconds: 60, lockAfter: 100 });
      const known: [number, string][] = [];
      const unknown: [number, string][] = [];
      for (let i = 0; i < 4; i++) {
        const a = await login(app, "bob", "wrong");
        known.push([a.status, (await a.text()).replace(/"instance":"[^"]*"/, "")]);
        const b = await login(app, "nobody-here", "wrong");
        unknown.push([b.status, (await b.text()).replace(/"instance":"[^"]*"/, "")]);
      }
      assert.deepEqual(unknown, known);
      assert.deepEqual(known.map(([status]) => status), [401, 401, 429, 429]);
    });

    test("an administrator can unlock a user", async () => {
      const { app, auth } = await service({ slowDownAfter: 100, lockAfter: 2 });
      for (let i = 0; i < 3; i++) await login(app, "bob", "wrong");
      assert.equal((await login(app, "bob", PASSWORD)).status, 429);
      const [bob] = await auth.stores.users.findMany({ filter: { kind: "compare", field: "username", op: "eq", value: "bob" } });
      const unlocked = await app.handle(new Request(`http://localhost/api/v1/auth/users/${bob!.id}/$unlock`, {
        method: "POST",
        headers: { "x-api-key": ADMIN_KEY },
      }));
      assert.equal(unlocked.status, 204);
      assert.equal((await login(app, "bob", PASSWORD)).status, 200);
    });
  });
}
