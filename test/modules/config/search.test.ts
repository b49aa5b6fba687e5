import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { configMigrations } from "../../../src/modules/config/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { testStores } from "../../_support/stores.ts";

for (const store of testStores()) {
  describe(`configs are searchable by name and data on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      // Rows written before the search migration are found too.
      await migrate(db, configMigrations.filter((migration) => migration.version < 4));
      await db.exec(
        `INSERT INTO "configs" ("id", "created_at", "updated_at", "name", "data") VALUES (?, ?, ?, ?, ?)`,
        ["01K72P5N5KCRM6MD3BRE4P0999", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "legacy weekly", store.kind === "sqlite" ? '{"region":"north"}' : { toJSON: () => ({ region: "north" }) } as never],
      );
      app = await new ServiceBuilder({ info: { display_name: "Search" } })
        .withDatabase(db)
        .withConfig(Type.Object({}, { additionalProperties: true }))
        .build();
      await app.handle(new Request("http://localhost/api/v1/config", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "daily", data: { region: "south", model: "arima" } }),
      }));
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const search = async (q: string): Promise<string[]> => {
      const response = await app.handle(new Request(`http://localhost/api/v1/config?q=${encodeURIComponent(q)}`));
      assert.equal(response.status, 200, await response.clone().text());
      return ((await response.json()) as { name: string }[]).map((item) => item.name).sort();
    };

    test("?q= finds configs by name and by data, old rows included", async () => {
      assert.deepEqual(await search("weekly"), ["legacy weekly"]);
      assert.deepEqual(await search("arima"), ["daily"]);
      assert.deepEqual(await search("north"), ["legacy weekly"]);
    });
  });
}

for (const store of testStores()) {
  describe(`artifact search is opt-in per service on ${store.name}`, () => {
    after(() => store.cleanup());

    test("withArtifacts({ searchable: true }) finds artifacts by data; the default refuses q=", async () => {
      for (const searchable of [true, false]) {
        const db = await store.open();
        const app = await new ServiceBuilder({ info: { display_name: "Artifacts" } })
          .withDatabase(db)
          .withArtifacts({ hierarchy: { name: "h", level_labels: {} }, searchable })
          .build();
        try {
          await app.handle(new Request("http://localhost/api/v1/artifacts", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ data: { note: "rainfall model" } }),
          }));
          const response = await app.handle(new Request("http://localhost/api/v1/artifacts?q=rainfall"));
          if (searchable) {
            assert.equal(response.status, 200, await response.clone().text());
            assert.equal(((await response.json()) as unknown[]).length, 1);
          } else {
            assert.equal(response.status, 400);
            await response.body?.cancel();
          }
        } finally {
          await app.chapkit.close();
          await db.close();
        }
      }
    });
  });
}
