import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Driver } from "../../../src/db/driver.ts";
import { testStores } from "../../_support/stores.ts";
import { eventually, runnerOn } from "./_support.ts";

/** Makes the real `jobs` table refuse updates to the given statuses (a trigger), as a failing store would. */
async function refuseFinish(db: Driver, statuses: string[]): Promise<void> {
  const list = statuses.map((status) => `'${status}'`).join(", ");
  if (db.dialect === "sqlite") {
    await db.exec(
      `CREATE TRIGGER refuse_finish BEFORE UPDATE OF status ON jobs WHEN NEW.status IN (${list}) BEGIN SELECT RAISE(ABORT, 'the store refuses this outcome'); END`,
    );
  } else {
    await db.exec(`CREATE OR REPLACE FUNCTION refuse_finish() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'the store refuses this outcome'; END $$ LANGUAGE plpgsql`);
    await db.exec(`CREATE TRIGGER refuse_finish BEFORE UPDATE ON jobs FOR EACH ROW WHEN (NEW.status IN (${list})) EXECUTE FUNCTION refuse_finish()`);
  }
}

async function acceptFinish(db: Driver): Promise<void> {
  await db.exec(db.dialect === "sqlite" ? "DROP TRIGGER refuse_finish" : "DROP TRIGGER refuse_finish ON jobs");
}

for (const store of testStores()) {
  describe(`a job whose final store write throws, on ${store.name}`, () => {
    after(() => store.cleanup());

    test("ends failed with the store's error instead of staying running", async () => {
      const db = await store.open();
      const runner = await runnerOn(db, { heartbeatMs: 50 });
      try {
        await refuseFinish(db, ["completed"]);
        const id = await runner.submit(() => "done");
        const record = await runner.wait(id, 10_000);
        assert.equal(record.status, "failed");
        assert.match(record.error!, /^JobStoreError: .*refuses this outcome/);
      } finally {
        await runner.close();
        await db.close();
      }
    });

    test("ends once the store accepts a write again, and wait() returns", async () => {
      const db = await store.open();
      const runner = await runnerOn(db, { heartbeatMs: 50, pollMs: 20 });
      try {
        await refuseFinish(db, ["completed", "failed"]);
        const id = await runner.submit(() => "done");
        await eventually(async () => (await runner.get(id)).status === "running");
        const waiting = runner.wait(id, 20_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await acceptFinish(db);
        const record = await waiting;
        assert.equal(record.status, "failed");
        assert.match(record.error!, /^JobStoreError: /);
      } finally {
        await runner.close();
        await db.close();
      }
    });

    if (store.kind === "postgres") {
      test("an error text PostgreSQL cannot hold (a NUL byte) still fails the job with it", async () => {
        const db = await store.open();
        const runner = await runnerOn(db, { heartbeatMs: 50 });
        try {
          const id = await runner.submit(() => {
            throw new Error("bad\u0000byte");
          });
          const record = await runner.wait(id, 10_000);
          assert.equal(record.status, "failed");
          assert.match(record.error_traceback!, /badbyte/);
        } finally {
          await runner.close();
          await db.close();
        }
      });
    }
  });
}
