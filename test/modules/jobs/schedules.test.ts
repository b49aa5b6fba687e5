import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import type { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { JobScheduler } from "../../../src/modules/jobs/scheduler.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { eventually, jobsApp, type JobsApp, runnerOn } from "./_support.ts";

const beat = { payload: Type.Object({ n: Type.Optional(Type.Integer()) }), run: () => null };

for (const makeStore of [sqliteFileStore, postgresStore]) {
  const store = makeStore();
  const httpStore = makeStore();

  describe(`cron schedules on ${store.name}`, () => {
    let db: Driver;
    const runners: InProcessJobRunner[] = [];
    const schedulers: JobScheduler[] = [];

    before(async () => {
      db = await store.open();
      // Two instances on one store; ticks are driven by hand so the test decides when both race.
      for (let i = 0; i < 2; i++) {
        const runner = await runnerOn(db, { identity: null, queuePollMs: 20 });
        runner.register("beat", beat);
        runners.push(runner);
        schedulers.push(new JobScheduler(db, runner, { tickMs: 60_000, missedAfterMs: 5_000 }));
      }
    });
    after(async () => {
      for (const scheduler of schedulers) await scheduler.stop();
      for (const runner of runners) await runner.close();
      await db.close();
      await store.cleanup();
    });

    const jobsOf = async (schedule: string): Promise<string[]> =>
      (await db.query("SELECT job_id FROM job_schedule_ticks WHERE schedule = ? ORDER BY tick", [schedule])).map((row) =>
        String(row.job_id)
      );

    test("each tick enqueues exactly one job across instances racing for it", async () => {
      const first = await schedulers[0]!.schedule("every-second", { cron: "* * * * * *", job: "beat", payload: { n: 1 } });
      assert.equal(first.following_runs.length, 3);
      assert.equal(Date.parse(first.following_runs[0]!) - Date.parse(first.next_run_at), 1_000);
      const until = Date.now() + 2_300;
      while (Date.now() < until) {
        await Promise.all([...schedulers, ...schedulers].map((scheduler) => scheduler.tick()));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const ticks = await jobsOf("every-second");
      assert.ok(ticks.length >= 2, `${ticks.length} ticks`);
      const jobs = await runners[0]!.list();
      const beats = jobs.filter((job) => job.name === "beat");
      assert.equal(beats.length, ticks.length, "one job per tick");
      assert.deepEqual(new Set(beats.map((job) => job.id)), new Set(ticks));
      for (const id of ticks) assert.equal((await runners[0]!.wait(id, 10_000)).status, "completed");
      const record = await schedulers[1]!.get("every-second");
      assert.equal(record.last_job_id, ticks.at(-1));
      assert.ok(Date.parse(record.next_run_at) > Date.parse(record.last_run_at!));
      await schedulers[0]!.unschedule("every-second");
    });

    for (const missed of ["skip", "run_once"] as const) {
      test(`ticks missed while every instance was down: ${missed}`, async () => {
        const name = `missed-${missed}`;
        await schedulers[0]!.schedule(name, { cron: "*/5 * * * * *", job: "beat", missed });
        await db.exec("UPDATE job_schedules SET next_run_at = ? WHERE name = ?", [
          new Date(Date.now() - 3_600_000).toISOString(),
          name,
        ]);
        await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
        await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
        assert.equal((await jobsOf(name)).length, missed === "skip" ? 0 : 1);
        const record = await schedulers[0]!.get(name);
        assert.ok(Date.parse(record.next_run_at) > Date.now() - 1_000, "the next tick is in the future");
        await schedulers[0]!.unschedule(name);
      });
    }

    test("a bad expression, time zone, handler or policy is refused", async () => {
      await assert.rejects(schedulers[0]!.schedule("bad", { cron: "nope", job: "beat" }), /invalid configuration/);
      await assert.rejects(schedulers[0]!.schedule("bad", { cron: "* * * * *", job: "beat", timezone: "Mars/Base" }));
      await assert.rejects(schedulers[0]!.schedule("bad", { cron: "* * * * *", job: "missing" }), /No job handler/);
      assert.equal((await schedulers[0]!.list()).length, 0);
    });
  });

  describe(`/api/v1/schedules on ${httpStore.name}`, () => {
    let app: ServiceApp;

    let service: JobsApp;

    before(async () => {
      service = await jobsApp(httpStore, {
        handlers: { beat },
        schedules: { nightly: { cron: "0 2 * * *", job: "beat", timezone: "Europe/Oslo" } },
        scheduleTickMs: 50,
      });
      app = service.app;
    });
    after(() => service.close());

    test("schedules from code are listed with their next run times", async () => {
      const list = await json<Record<string, unknown>[]>(await call(app, "GET", "/api/v1/schedules"), 200);
      assert.deepEqual(list.map((item) => item.name), ["nightly"]);
      assert.equal(list[0]!.timezone, "Europe/Oslo");
      assert.equal((list[0]!.following_runs as string[]).length, 3);
      assert.ok(Date.parse(String(list[0]!.next_run_at)) > Date.now());
    });

    test("create (201), conflict (409), get, replace, delete (204), then 404", async () => {
      const body = { name: "often", cron: "*/2 * * * * *", job: "beat", payload: { n: 2 }, missed: "run_once" };
      const created = await json<Record<string, unknown>>(await call(app, "POST", "/api/v1/schedules", body), 201);
      assert.equal(created.missed, "run_once");
      assert.equal((await call(app, "POST", "/api/v1/schedules", body)).status, 409);
      await eventually(async () => {
        const current = await json<Record<string, unknown>>(await call(app, "GET", "/api/v1/schedules/often"), 200);
        return current.last_job_id !== null;
      });
      const replaced = await json<Record<string, unknown>>(
        await call(app, "PUT", "/api/v1/schedules/often", { cron: "0 0 1 1 *", job: "beat" }),
        200,
      );
      assert.equal(replaced.cron, "0 0 1 1 *");
      assert.equal(replaced.missed, "skip");
      assert.equal((await call(app, "DELETE", "/api/v1/schedules/often")).status, 204);
      assert.equal((await call(app, "GET", "/api/v1/schedules/often")).status, 404);
      assert.equal((await call(app, "DELETE", "/api/v1/schedules/often")).status, 404);
    });

    test("bad bodies are 422 problems naming the field, and nothing is stored", async () => {
      for (const [body, field] of [
        [{ name: "x", cron: "every day", job: "beat" }, "cron"],
        [{ name: "x", cron: "* * * * *", job: "nope" }, "job"],
        [{ name: "x", cron: "* * * * *", job: "beat", missed: "later" }, "missed"],
        [{ name: "bad name", cron: "* * * * *", job: "beat" }, "name"],
        [{ cron: "* * * * *", job: "beat" }, "name"],
      ] as const) {
        const response = await call(app, "POST", "/api/v1/schedules", body);
        assert.equal(response.status, 422, JSON.stringify(body));
        const problem = await response.json() as { errors: { loc: unknown[] }[] };
        assert.equal(problem.errors[0]!.loc[1], field, JSON.stringify(problem));
      }
      const names = (await json<{ name: string }[]>(await call(app, "GET", "/api/v1/schedules"), 200)).map((s) => s.name);
      assert.deepEqual(names, ["nightly"]);
    });
  });
}
