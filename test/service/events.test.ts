/**
 * A service publishes committed changes on its bus (`context.events`):
 * config writes as `entity.*` with the answered state, jobs as `job.*`;
 * nothing for a rejected write; on PostgreSQL another instance on the same
 * store receives the same events through the outbox. Events are kept for
 * resuming only where realtime subscriptions can resume.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../src/core/events/types.ts";
import type { JobRunner } from "../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../_support/stores.ts";

const Schema = Type.Object({ k: Type.Integer({ default: 3 }) });

function service(url: string): Promise<ServiceApp> {
  return new ServiceBuilder({ info: { display_name: "Events" } })
    .withSettings({ env: {} })
    .withDatabase(url)
    .withConfig(Schema)
    .withJobs()
    .withRealtime()
    .build();
}

function post(app: ServiceApp, path: string, body: unknown): Promise<Response> {
  return app.handle(new Request(`http://local${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }));
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function record(app: ServiceApp, selector: Parameters<ServiceApp["chapkit"]["context"]["events"]["subscribe"]>[0] = {}): ServiceEvent[] {
  const seen: ServiceEvent[] = [];
  app.chapkit.context.events.subscribe(selector, (event) => seen.push(event));
  return seen;
}

for (const make of [sqliteFileStore, postgresStore]) {
  const store: TestStore = make();
  describe(`events of a service on ${store.name}`, () => {
    after(() => store.cleanup());

    test("events are kept for resuming with realtime subscriptions on, and none without them", async () => {
      await (await store.open()).close();
      const live = await service(store.url());
      const plain = await new ServiceBuilder({ info: { display_name: "Events" } })
        .withSettings({ env: {} })
        .withDatabase(store.url())
        .withConfig(Schema)
        .build();
      try {
        for (const app of [live, plain]) {
          const seen = record(app, { collections: ["configs"] });
          for (const name of ["r1", "r2", "r3"]) assert.equal((await post(app, "/api/v1/config", { name: `${name}-${app === live}`, data: {} })).status, 201);
          await until(() => seen.length >= 3);
          const resumed = app.chapkit.context.events.since(seen[0]!.id)?.map((event) => event.id);
          // Events still reach subscribers either way; only resuming needs them kept.
          assert.deepEqual(resumed, app === live ? [seen[1]!.id, seen[2]!.id] : undefined);
        }
      } finally {
        await live.chapkit.close();
        await plain.chapkit.close();
      }
    });

    test("config writes publish entity.created, updated and deleted with the state the API answers", async () => {
      await (await store.open()).close();
      const app = await service(store.url());
      try {
        const seen = record(app, { collections: ["configs"] });
        const created = await post(app, "/api/v1/config", { name: "a", data: {} });
        assert.equal(created.status, 201);
        const body = await created.json() as { id: string };
        const put = await app.handle(new Request(`http://local/api/v1/config/${body.id}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "b", data: { k: 7 } }),
        }));
        assert.equal(put.status, 200);
        const updated = await put.json();
        assert.equal((await app.handle(new Request(`http://local/api/v1/config/${body.id}`, { method: "DELETE" }))).status, 204);
        await until(() => seen.length >= 3);
        assert.deepEqual(seen.map((event) => event.type), ["entity.created", "entity.updated", "entity.deleted"]);
        assert.deepEqual(seen[0]!.data, { collection: "configs", id: body.id, entity: body });
        assert.deepEqual(seen[1]!.data.entity, updated);
        assert.deepEqual(seen[2]!.data.entity, updated);
      } finally {
        await app.chapkit.close();
      }
    });

    test("a bulk create that fails publishes nothing, and the next write's event is the first one seen", async () => {
      await (await store.open()).close();
      const app = await service(store.url());
      try {
        const seen = record(app);
        const failed = await post(app, "/api/v1/config/$bulk-create", [{ name: "x", data: {} }, { name: "x", data: {} }]);
        assert.equal(failed.status, 409);
        assert.equal((await post(app, "/api/v1/config", { name: "after", data: {} })).status, 201);
        await until(() => seen.length >= 1);
        assert.deepEqual(seen.map((event) => (event.data.entity as { name: string }).name), ["after"]);
      } finally {
        await app.chapkit.close();
      }
    });

    test("a job publishes job.pending, job.running and job.completed with its record", async () => {
      await (await store.open()).close();
      const app = await service(store.url());
      try {
        const seen = record(app, { types: ["job.*"] });
        const runner = app.chapkit.context.get<JobRunner>("jobs");
        runner.register("noop", { payload: Type.Object({}), run: () => "ok" });
        const { record: job } = await runner.enqueue("noop", {});
        await runner.wait(job.id, 20_000);
        await until(() => seen.some((event) => event.type === "job.completed"));
        const mine = seen.filter((event) => event.data.id === job.id);
        assert.deepEqual(mine.map((event) => event.type), ["job.pending", "job.running", "job.completed"]);
        assert.equal((mine[2]!.data.entity as { status: string }).status, "completed");
      } finally {
        await app.chapkit.close();
      }
    });

    if (store.kind === "postgres") {
      test("an instance on the same PostgreSQL store receives the other's events, with the same ids", async () => {
        await (await store.open()).close();
        const a = await service(store.url());
        const b = await service(store.url());
        try {
          const onA = record(a, { collections: ["configs"] });
          const onB = record(b, { collections: ["configs"] });
          const names = Array.from({ length: 5 }, (_, i) => `n${i}`);
          for (const name of names) assert.equal((await post(a, "/api/v1/config", { name, data: {} })).status, 201);
          await until(() => onB.length >= names.length);
          assert.deepEqual(onB.map((event) => (event.data.entity as { name: string }).name), names);
          assert.deepEqual(onB.map((event) => event.id), onA.map((event) => event.id));
          assert.deepEqual(b.chapkit.context.events.since(onB[1]!.id)?.map((event) => event.id), onB.slice(2).map((event) => event.id));
        } finally {
          await a.chapkit.close();
          await b.chapkit.close();
        }
      });

      test("a create whose name is taken writes no outbox row and announces nothing; a create's event reaches the other instance once", async () => {
        const raw = await store.open();
        const a = await service(store.url());
        const b = await service(store.url());
        const announced: string[] = [];
        // The channel is database-wide: this schema's notifications start with its outbox table's oid.
        const [own] = await raw.query<{ oid: string }>("SELECT 'chapkit_events'::regclass::oid::text AS oid");
        const stop = await raw.listen!("chapkit_events", (payload) => {
          if (payload.startsWith(`${own!.oid}:`)) announced.push(payload);
        });
        try {
          const onB = record(b, { collections: ["configs"] });
          assert.equal((await post(a, "/api/v1/config", { name: "taken", data: {} })).status, 201);
          await until(() => onB.length === 1 && announced.length === 1);
          const rows = async () => Number((await raw.query<{ n: string }>("SELECT count(*) AS n FROM chapkit_events"))[0]!.n);
          const before = await rows();
          const refused = await post(a, "/api/v1/config", { name: "taken", data: {} });
          assert.equal(refused.status, 409);
          assert.equal(await rows(), before, "no outbox row for the refused create");
          assert.equal((await post(a, "/api/v1/config", { name: "free", data: {} })).status, 201);
          await until(() => onB.length === 2 && announced.length === 2);
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal(announced.length, 2, "one notification per committed create, none for the refused one");
          assert.deepEqual(onB.map((event) => (event.data.entity as { name: string }).name), ["taken", "free"]);
          assert.equal(await rows(), before + 1);
        } finally {
          await stop();
          await a.chapkit.close();
          await b.chapkit.close();
          await raw.close();
        }
      });

      test("concurrent writes on one instance reach the other exactly once each", async () => {
        await (await store.open()).close();
        const a = await service(store.url());
        const b = await service(store.url());
        try {
          const onA = record(a, { collections: ["configs"] });
          const onB = record(b, { collections: ["configs"] });
          const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
          const statuses = await Promise.all(names.map(async (name) => (await post(a, "/api/v1/config", { name, data: {} })).status));
          assert.deepEqual(statuses, names.map(() => 201));
          await until(() => onB.length >= names.length);
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.equal(onB.length, names.length);
          assert.deepEqual(onB.map((event) => event.id).sort(), onA.map((event) => event.id).sort());
        } finally {
          await a.chapkit.close();
          await b.chapkit.close();
        }
      });
    }
  });
}

describe("ML events", () => {
  test("a training publishes ml.trained and a prediction ml.predicted, with their artifacts' ids", async () => {
    const { functionalRunner } = await import("../../src/modules/ml/engine/functional-runner.ts");
    const { MLServiceBuilder } = await import("../../src/service/ml-service-builder.ts");
    const { createConfig, trainedModel, prediction } = await import("../modules/ml/_support.ts");
    const runner = functionalRunner({
      inputColumns: ["x"],
      onTrain: () => ({ k: 2 }),
      onPredict: ({ future }) => future.withColumn("sample_0", future.column("x").map((v) => Number(v) * 2)),
    });
    const app = await new MLServiceBuilder({ info: { display_name: "ml events" }, configSchema: Type.Object({}), runner, logging: false })
      .withSettings({ env: {} })
      .build();
    try {
      const seen = record(app, { types: ["ml.*"] });
      const configId = await createConfig(app, "c");
      const modelId = await trainedModel(app, configId, { columns: ["x", "y"], data: [[1, 2]] });
      const predicted = await prediction(app, modelId, { columns: ["x"], data: [[3]] });
      await until(() => seen.length >= 2);
      assert.deepEqual(seen.map((event) => [event.type, event.data.id]), [["ml.trained", modelId], ["ml.predicted", predicted.id]]);
    } finally {
      await app.chapkit.close();
    }
  });
});
