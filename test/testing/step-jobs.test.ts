import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { stepJobs, testClient } from "chapkit/testing";
import type { JobRunner } from "../../src/modules/jobs/types.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { memoryStore, postgresStore } from "../_support/stores.ts";

for (const store of [memoryStore(), postgresStore()]) {
  describe(`stepJobs (${store.kind})`, () => {
    after(() => store.cleanup());

    async function service(manual: boolean) {
      const ran: number[] = [];
      await (await store.open()).close();
      const handlers = {
        record: { payload: Type.Object({ n: Type.Integer() }), run: ({ n }: { n: number }) => void ran.push(n) },
        boom: { payload: Type.Object({}), run: () => Promise.reject(new Error("boom")) },
      };
      const client = await testClient(
        new ServiceBuilder({ info: { display_name: "steps" }, databaseUrl: store.url() }).withJobs({ manual, handlers }),
      );
      const runner = client.app.chapkit.context.get<JobRunner>("jobs");
      return { client, runner, ran };
    }

    it("runs exactly one queued job per next(), highest priority first, and nothing in between", async () => {
      const { client, runner, ran } = await using_(await service(true));
      const low = await runner.enqueue("record", { n: 1 }, { priority: 0 });
      await runner.enqueue("record", { n: 2 }, { priority: 5 });
      await runner.enqueue("record", { n: 3 }, { priority: 0 });
      const steps = stepJobs(client.app);
      const first = await steps.next();
      assert.equal(first?.status, "completed");
      assert.deepEqual(ran, [2]);
      assert.equal((await runner.get(low.record.id)).status, "pending", "the others wait for the test");
      assert.equal((await runner.list({ status: "pending" })).length, 2);
      const rest = await steps.all();
      assert.deepEqual(rest.map((r) => r.status), ["completed", "completed"]);
      assert.deepEqual(ran, [2, 1, 3]);
      assert.equal(await steps.next(), null);
    });

    it("answers a failing job as failed with its error, and runs function jobs too", async () => {
      const { client, runner } = await using_(await service(true));
      const steps = stepJobs(client.app);
      await runner.enqueue("boom", {}, { maxAttempts: 1 });
      const failed = await steps.next();
      assert.equal(failed?.status, "failed");
      assert.match(failed?.error ?? "", /boom/);
      let called = 0;
      const id = await runner.submit(() => void called++);
      assert.equal(called, 0);
      assert.equal((await steps.next())?.id, id);
      assert.equal(called, 1);
    });

    it("refuses a service whose runner claims by itself", async () => {
      const { client } = await using_(await service(false));
      await assert.rejects(stepJobs(client.app).next(), /manual: true/);
    });
  });
}

/** Closes the client after the test. */
async function using_<T extends { client: { close(): Promise<void> } }>(value: T): Promise<T> {
  after(() => value.client.close());
  return value;
}
