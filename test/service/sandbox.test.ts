/** The sandbox mode (CHAPKIT_SANDBOX=1): an in-memory store, seeded, reset on demand and on its schedule. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { entityManagerOf } from "../../src/modules/entity/mod.ts";
import { listenService, type RunningService } from "../../src/service/listen.ts";
import { type Sandbox, SANDBOX_KEY } from "../../src/service/sandbox.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { temporarySqlite, type TemporaryStore } from "../../src/testing/stores.ts";
import { Note } from "../http/_api-service.ts";

describe("sandbox mode", () => {
  let store: TemporaryStore;
  let running: RunningService;
  before(async () => {
    store = await temporarySqlite();
    const app = await new ServiceBuilder({ info: { display_name: "Playground" }, databaseUrl: store.url })
      .withEntity(Note)
      .withSandboxSeed(async (context) => {
        const notes = entityManagerOf(context, Note);
        await notes.save({ title: "seeded one", stars: 1 });
        await notes.save({ title: "seeded two", stars: 2 });
      })
      .withSettings({ env: { CHAPKIT_SANDBOX: "1", CHAPKIT_SANDBOX_RESET_SECONDS: "3600" } })
      .build();
    running = await listenService(app, { port: 0, handleSignals: false });
  });
  after(async () => {
    await running.stop();
    await store.cleanup();
  });

  const titles = async (): Promise<string[]> =>
    ((await (await fetch(`${running.url}/api/v1/notes?sort=title`)).json()) as { title: string }[]).map((note) => note.title);

  it("starts seeded, on an in-memory store: the configured database is never created", async () => {
    assert.deepEqual(await titles(), ["seeded one", "seeded two"]);
    assert.equal(existsSync(store.url.slice("sqlite:".length)), false);
  });

  it("forgets visitors' changes and seeds again on reset, scheduled an hour ahead", async () => {
    const created = await fetch(`${running.url}/api/v1/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "visitor", stars: 5 }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await titles(), ["seeded one", "seeded two", "visitor"]);
    const sandbox = running.app.chapkit.context.get<Sandbox>(SANDBOX_KEY);
    const next = Date.parse(sandbox.nextResetAt) - Date.now();
    assert.ok(next > 3500_000 && next <= 3600_000, String(next));
    await sandbox.reset();
    assert.deepEqual(await titles(), ["seeded one", "seeded two"]);
  });

  it("runs no seed and keeps the configured store when the setting is off", async () => {
    let seeded = false;
    const app = await new ServiceBuilder({ info: { display_name: "Normal" }, databaseUrl: "sqlite::memory:" })
      .withEntity(Note)
      .withSandboxSeed(() => {
        seeded = true;
      })
      .withSettings({ env: {} })
      .build();
    try {
      assert.equal(seeded, false);
      assert.equal(app.chapkit.context.has(SANDBOX_KEY), false);
    } finally {
      await app.chapkit.close();
    }
  });
});
