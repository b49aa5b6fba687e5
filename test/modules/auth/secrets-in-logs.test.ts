import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_KEY, authService, type AuthTestService, JWT_SECRET } from "./_service.ts";

describe("secrets in logs and responses", () => {
  const logs: string[] = [];
  const secrets: string[] = [ADMIN_KEY, JWT_SECRET];
  let service: AuthTestService;
  let issuedKey = "";

  before(async () => {
    service = await authService({ logs, logLevel: "debug" });
    const password = "zelda-very-secret-password";
    const wrong = "zelda-wrong-secret-password";
    secrets.push(password, wrong);
    const created = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "zelda", password, role: "editor" } });
    assert.equal(created.status, 201);
    const key = await (await service.call("POST", "/api/v1/auth/keys", { key: ADMIN_KEY, body: { name: "logged" } })).json();
    issuedKey = key.key;
    secrets.push(issuedKey);
    await service.call("GET", "/api/v1/system", { key: issuedKey });
    await service.call("GET", "/api/v1/auth/keys", { key: issuedKey });
    await service.call("POST", "/api/v1/auth/login", { body: { username: "zelda", password: wrong } });
    const first = await (await service.call("POST", "/api/v1/auth/login", { body: { username: "zelda", password } })).json();
    const second = await (await service.call("POST", "/api/v1/auth/refresh", { body: { refresh_token: first.refresh_token } })).json();
    await service.call("POST", "/api/v1/auth/refresh", { body: { refresh_token: first.refresh_token } });
    secrets.push(first.access_token, first.refresh_token, second.access_token, second.refresh_token);
    await service.call("GET", "/api/v1/system", { token: first.access_token });
    const third = await (await service.call("POST", "/api/v1/auth/login", { body: { username: "zelda", password } })).json();
    secrets.push(third.access_token, third.refresh_token);
    assert.equal((await service.call("POST", "/api/v1/auth/logout", { token: third.access_token })).status, 204);
    await service.call("GET", "/api/v1/system", { key: "ck_an-unknown-but-secret-looking-key" });
    secrets.push("ck_an-unknown-but-secret-looking-key");
  });
  after(() => service.close());

  it("logged the requests and the auth events", async () => {
    // Request completion lines are written after the response, on a later turn of the event loop.
    const deadline = Date.now() + 5_000;
    const eventsNow = (): string[] => logs.map((line) => JSON.parse(line).event);
    while (!eventsNow().includes("http.request.complete") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const events = eventsNow();
    for (const event of ["http.request.complete", "auth.login", "auth.key.issued", "auth.refresh.reuse", "auth.logout", "auth.permission.denied"]) {
      assert.ok(events.includes(event), event);
    }
  });

  it("never writes a key, password, token or signing secret to the log", () => {
    const text = logs.join("\n");
    for (const secret of secrets) assert.ok(!text.includes(secret), `a secret of ${secret.length} characters leaked`);
  });

  it("never returns a secret after it was created", async () => {
    const bodies = await Promise.all(
      ["/api/v1/auth/keys", "/api/v1/auth/users", "/api/v1/auth/audit?size=500", "/api/v1/auth/sessions"].map(async (path) =>
        await (await service.call("GET", path, { key: ADMIN_KEY })).text()
      ),
    );
    for (const body of bodies) {
      for (const secret of secrets) assert.ok(!body.includes(secret));
      assert.ok(!body.includes("password_hash") && !body.includes("key_hash") && !body.includes("token_hash"));
    }
  });
});
