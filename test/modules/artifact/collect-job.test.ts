/**
 * Garbage collection of payloads as a scheduled job: `storage.collect` is
 * registered and scheduled by `storage.gcCron` when the service has jobs,
 * removes content nobody holds once the grace period has passed, and never
 * takes an upload still in progress or content between its upload and the
 * artifact that holds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stepJobs } from "chapkit/testing";
import type { ArtifactManager } from "../../../src/modules/artifact/manager.ts";
import { artifactsModule } from "../../../src/modules/artifact/mod.ts";
import type { JobScheduler } from "../../../src/modules/jobs/scheduler.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { COLLECT_JOB } from "../../../src/modules/storage/collect-job.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { patterned } from "../../storage/_contract.ts";
import { BASE, call, json } from "../../_support/http.ts";
import { testStores } from "../../_support/stores.ts";
import { HIERARCHY } from "./_fixture.ts";

const GRACE_MS = 400;
// A schedule that does not come due while the tests run: every five minutes, it did now and then,
// and its own run joined the one a test enqueued.
const CRON = "0 0 1 1 *";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const store of testStores()) {
  describe(`storage.collect job on ${store.name}`, () => {
    let app: ServiceApp;
    let artifacts: ArtifactManager;
    before(async () => {
      app = await new ServiceBuilder({ info: { display_name: "Collect" } })
        .withSettings({ env: { CHAPKIT_STORAGE_GC_GRACE_MS: String(GRACE_MS), CHAPKIT_STORAGE_GC_CRON: CRON, LOG_LEVEL: "warn" } })
        .withDatabase(await store.open())
        .withJobs({ manual: true })
        .module(artifactsModule({ hierarchy: HIERARCHY }))
        .build();
      artifacts = app.chapkit.context.get<ArtifactManager>("artifacts");
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    async function collect(): Promise<void> {
      await app.chapkit.context.get<JobRunner>("jobs").enqueue(COLLECT_JOB, {});
      const ran = await stepJobs(app).all();
      assert.deepEqual(ran.map((job) => [job.name, job.status]), [[COLLECT_JOB, "completed"]]);
    }

    async function stored(digest: string): Promise<boolean> {
      return (await artifacts.content.info(digest)) !== null &&
        (await artifacts.content.blobs.head(`sha256/${digest.slice(0, 2)}/${digest}`)) !== null;
    }

    it("is scheduled by storage.gcCron", async () => {
      const schedule = await app.chapkit.context.get<JobScheduler>("schedules").get(COLLECT_JOB);
      assert.equal(schedule.cron, CRON);
      assert.equal(schedule.job, COLLECT_JOB);
    });

    it("keeps released content through the grace period and removes it after", async () => {
      const created = await artifacts.create({ data: { model: { $chapkit: "payload" } } }, { bytes: patterned(70_000, 3), contentType: "application/octet-stream" });
      const { digest } = (await artifacts.payloadInfo(created.id))!;
      await artifacts.delete(created.id);
      await collect();
      assert.equal(await stored(digest), true, "released just now: within the grace period");
      await sleep(GRACE_MS + 100);
      await collect();
      assert.equal(await stored(digest), false);
    });

    it("keeps content still held by an artifact, however old", async () => {
      const created = await artifacts.create({ data: { model: { $chapkit: "payload" } } }, { bytes: patterned(5_000, 4), contentType: "application/octet-stream" });
      await sleep(GRACE_MS + 100);
      await collect();
      const download = await artifacts.download(created.id);
      assert.deepEqual(download.bytes, patterned(5_000, 4));
    });

    it("keeps an upload in progress and the content it leads to", async () => {
      const payload = patterned(3 * 1024 * 1024 + 5, 9);
      let resume!: () => void;
      const paused = new Promise<void>((resolve) => (resume = resolve));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 2 * 1024 * 1024) await paused;
          if (sent >= payload.byteLength) return controller.close();
          const next = payload.subarray(sent, Math.min(sent + 1024 * 1024, payload.byteLength));
          sent += next.byteLength;
          controller.enqueue(next);
        },
      });
      const response = app.handle(new Request(`${BASE}/api/v1/artifacts/$upload`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
        duplex: "half",
      } as RequestInit));
      while (sent < 2 * 1024 * 1024) await sleep(10);
      await sleep(GRACE_MS + 100);
      await collect();
      resume();
      const created = await json<{ id: string }>(await response, 201);
      const download = await call(app, "GET", `/api/v1/artifacts/${created.id}/$download`);
      assert.deepEqual(new Uint8Array(await download.arrayBuffer()), payload);
    });

    it("keeps content stored but not yet held within the grace period, so the holder can still take it", async () => {
      const payload = await artifacts.storeContent(patterned(10_000, 5), "application/octet-stream");
      await collect();
      const created = await artifacts.create({ data: { model: { $chapkit: "payload" } } }, payload);
      assert.deepEqual((await artifacts.download(created.id)).bytes, patterned(10_000, 5));
    });
  });
}
