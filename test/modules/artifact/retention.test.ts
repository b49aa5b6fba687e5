/**
 * Retention of artifacts: `expires_at` per artifact and policies per level
 * and type, enforced by the scheduled `artifacts.retention` job; legal hold
 * exempts an artifact and the tree that holds it; `$retention` reads and
 * sets both, refusing bad input with problems.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stepJobs } from "chapkit/testing";
import type { ArtifactManager } from "../../../src/modules/artifact/manager.ts";
import { artifactsModule, RETENTION_JOB } from "../../../src/modules/artifact/mod.ts";
import { ArtifactRetention } from "../../../src/modules/artifact/retention.ts";
import type { JobScheduler } from "../../../src/modules/jobs/scheduler.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { patterned } from "../../storage/_contract.ts";
import { call, json } from "../../_support/http.ts";
import { testStores } from "../../_support/stores.ts";
import { HIERARCHY } from "./_fixture.ts";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

for (const store of testStores()) {
  describe(`artifact retention on ${store.name}`, () => {
    let app: ServiceApp;
    let artifacts: ArtifactManager;
    before(async () => {
      app = await new ServiceBuilder({ info: { display_name: "Retention" } })
        .withSettings({ env: { CHAPKIT_STORAGE_RETENTION_CRON: "0 3 * * *", LOG_LEVEL: "warn" } })
        .withDatabase(await store.open())
        .withJobs({ manual: true })
        .module(artifactsModule({
          hierarchy: HIERARCHY,
          retention: [{ name: "prediction-samples", level: "predictions", type: "sample", maxAgeDays: 30 }],
        }))
        .build();
      artifacts = app.chapkit.context.get<ArtifactManager>("artifacts");
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    async function enforce(): Promise<void> {
      await app.chapkit.context.get<JobRunner>("jobs").enqueue(RETENTION_JOB, {});
      const ran = await stepJobs(app).all();
      assert.deepEqual(ran.map((job) => [job.name, job.status, job.error]), [[RETENTION_JOB, "completed", null]]);
    }

    async function exists(id: string): Promise<boolean> {
      return (await call(app, "GET", `/api/v1/artifacts/${id}`)).status === 200;
    }

    async function backdate(id: string, days: number): Promise<void> {
      await app.chapkit.context.db.exec(`UPDATE "artifacts" SET "created_at" = ? WHERE "id" = ?`, [ago(days), id]);
    }

    async function retention(id: string, body: unknown, status = 200): Promise<Record<string, unknown>> {
      return json(await call(app, "PUT", `/api/v1/artifacts/${id}/$retention`, body), status);
    }

    it("is scheduled by storage.retentionCron", async () => {
      const schedule = await app.chapkit.context.get<JobScheduler>("schedules").get(RETENTION_JOB);
      assert.equal(schedule.cron, "0 3 * * *");
    });

    it("reads and sets an artifact's expiry and legal hold", async () => {
      const created = await artifacts.create({ data: { name: "a" } });
      assert.deepEqual(await json(await call(app, "GET", `/api/v1/artifacts/${created.id}/$retention`), 200), {
        artifact_id: created.id,
        expires_at: null,
        legal_hold: false,
      });
      const set = await retention(created.id, { expires_at: "2030-01-02T03:04:05Z" });
      assert.equal(set.expires_at, "2030-01-02T03:04:05.000Z");
      const held = await retention(created.id, { legal_hold: true });
      assert.deepEqual(held, { artifact_id: created.id, expires_at: "2030-01-02T03:04:05.000Z", legal_hold: true });
      assert.equal((await retention(created.id, { expires_at: null })).expires_at, null);
    });

    it("refuses a bad expiry or hold with 422, and an unknown artifact with 404", async () => {
      const created = await artifacts.create({ data: { name: "b" } });
      const bad = await retention(created.id, { expires_at: "next tuesday" }, 422);
      assert.deepEqual((bad.errors as { loc: string[] }[])[0]?.loc, ["body", "expires_at"]);
      await retention(created.id, { legal_hold: "maybe" }, 422);
      const missing = await retention("01K2E7W8X9Y0Z1A2B3C4D5E6F7", { legal_hold: true }, 404);
      assert.equal(missing.type, "urn:chapkit:error:not-found");
    });

    it("deletes an artifact whose expiry passed, with its subtree, and releases its payload", async () => {
      const root = await artifacts.create({ data: { model: { $chapkit: "payload" } } }, { bytes: patterned(3000, 8), contentType: "application/octet-stream" });
      const child = await artifacts.create({ data: { name: "child" }, parent_id: root.id });
      const later = await artifacts.create({ data: { name: "later" } });
      const { digest } = (await artifacts.payloadInfo(root.id))!;
      await retention(root.id, { expires_at: ago(1) });
      await retention(later.id, { expires_at: new Date(Date.now() + DAY).toISOString() });
      await enforce();
      assert.equal(await exists(root.id), false);
      assert.equal(await exists(child.id), false);
      assert.equal(await exists(later.id), true);
      assert.equal((await artifacts.content.info(digest))?.refcount, 0, "the payload is left for garbage collection");
    });

    it("keeps an expired artifact under legal hold, and an expired tree that holds one", async () => {
      const held = await artifacts.create({ data: { name: "held" } });
      await retention(held.id, { expires_at: ago(1), legal_hold: true });
      const parent = await artifacts.create({ data: { name: "parent" } });
      const heldChild = await artifacts.create({ data: { name: "held child" }, parent_id: parent.id });
      await retention(parent.id, { expires_at: ago(1) });
      await retention(heldChild.id, { legal_hold: true });
      await enforce();
      assert.equal(await exists(held.id), true);
      assert.equal(await exists(parent.id), true);
      assert.equal(await exists(heldChild.id), true);
      await retention(held.id, { legal_hold: false });
      await enforce();
      assert.equal(await exists(held.id), false, "released from hold, it goes at the next run");
    });

    it("applies a policy only to old artifacts of its level and type", async () => {
      const model = await artifacts.create({ data: { type: "sample" } });
      const oldSample = await artifacts.create({ data: { type: "sample", n: 1 }, parent_id: model.id });
      const newSample = await artifacts.create({ data: { type: "sample", n: 2 }, parent_id: model.id });
      const oldOther = await artifacts.create({ data: { ml_type: "prediction" }, parent_id: model.id });
      const heldSample = await artifacts.create({ data: { type: "sample", n: 3 }, parent_id: model.id });
      for (const id of [model.id, oldSample.id, oldOther.id, heldSample.id]) await backdate(id, 31);
      await backdate(newSample.id, 29);
      await retention(heldSample.id, { legal_hold: true });
      await enforce();
      assert.equal(await exists(oldSample.id), false);
      assert.equal(await exists(newSample.id), true, "younger than 30 days");
      assert.equal(await exists(oldOther.id), true, "another type");
      assert.equal(await exists(model.id), true, "another level");
      assert.equal(await exists(heldSample.id), true, "under legal hold");
    });

    it("refuses a policy naming a level the hierarchy does not have", () => {
      assert.throws(
        () => new ArtifactRetention(artifacts, [{ name: "x", level: "forecasts", maxAgeDays: 1 }]),
        /No level labelled "forecasts"/,
      );
    });
  });
}
