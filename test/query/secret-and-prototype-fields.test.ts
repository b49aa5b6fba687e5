import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../src/db/driver.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { testStores } from "../_support/stores.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "../modules/auth/_service.ts";

type Json = Record<string, unknown>;

async function invalid(response: Response, name: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 400, text);
  const problem = JSON.parse(text) as Json;
  assert.equal(problem.type, "urn:chapkit:error:invalid-query");
  assert.ok(String(problem.detail).includes(name), String(problem.detail));
}

describe("secret columns are not queryable", () => {
  let service: AuthTestService;

  before(async () => {
    service = await authService();
    await service.auth.users.create({ username: "alice", password: "correct horse battery", role: "viewer" });
  });
  after(() => service.close());

  const list = (query: string): Promise<Response> => service.call("GET", `/api/v1/auth/users?${query}`, { key: ADMIN_KEY });

  for (const query of [
    "password_hash[startswith]=%24scrypt",
    "password_hash=x",
    "sort=password_hash",
    "fields=id,password_hash",
    "filter=password_hash%20~%20%22scrypt%22",
    "filter=password_hash%20%3D%20null",
  ]) {
    test(`?${decodeURIComponent(query)} is a 400 naming password_hash as unknown`, async () => {
      await invalid(await list(query), "password_hash");
    });
  }

  test("the users list still answers without the secret", async () => {
    const response = await list("username=alice");
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(!text.includes("password_hash") && !text.includes("scrypt"), text);
  });
});

for (const store of testStores()) {
  describe(`prototype names are unknown fields on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Prototype names" } })
        .withDatabase(db)
        .withConfig(Type.Object({}, { additionalProperties: true }))
        .build();
      await app.handle(new Request("http://localhost/api/v1/config", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "one", data: { constructor: 1 } }),
      }));
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const list = (query: string): Promise<Response> => app.handle(new Request(`http://localhost/api/v1/config?${query}`));

    for (const name of ["constructor", "__proto__", "valueOf", "toString", "hasOwnProperty", "prototype"]) {
      test(`${name} is a 400 unknown field as a filter, a sort, a field and in an expression`, async () => {
        // Parameters starting with `_` are ignored cache busters, so `__proto__` is tried where it names a field.
        const asParameter = name.startsWith("_") ? [] : [`${name}=1`, `${name}[eq]=1`];
        for (const query of [...asParameter, `sort=${name}`, `sort=-${name}`, `fields=id,${name}`, `filter=${name}%20%3D%201`]) {
          const response = await list(query);
          assert.ok(response.status === 400, `${query}: ${response.status} ${await response.clone().text()}`);
          await response.body?.cancel();
        }
      });
    }

    test("a JSON key named like a prototype member is data, not a 500", async () => {
      const response = await list("data.constructor=1");
      assert.equal(response.status, 200, await response.clone().text());
      await response.body?.cancel();
    });
  });
}
