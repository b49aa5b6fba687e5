/**
 * ETL end to end: a real HTTP server, real files and (on SQLite) the s3rver
 * emulator as sources; runs are jobs of the real queue on SQLite and
 * PostgreSQL; definitions, runs and their history over HTTP.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity, field } from "../../../src/core/entity-definition.ts";
import type { EtlRunRecord, EtlTransform } from "../../../src/modules/etl/mod.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { ConfigurationError } from "../../../src/core/errors.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { xlsxStream } from "../../../src/http/exchange/_xlsx.ts";
import { S3BlobStore } from "../../../src/storage/s3-blob-store.ts";
import { type Emulator, startS3rver } from "../../_support/emulators.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../../_support/stores.ts";

const City = defineEntity({
  table: "cities",
  name: "City",
  fields: {
    code: field(Type.String({ minLength: 1 }), { unique: true }),
    name: Type.String({ minLength: 1 }),
    population: Type.Integer({ minimum: 0 }),
  },
});

const Town = defineEntity({
  table: "towns",
  name: "Town",
  fields: { code: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }), population: Type.Integer({ minimum: 0 }) },
});

const CITIES_CSV = "code,name,population\nOSL,oslo,709000\nBGO,bergen,291000\nXXX,ghost,0\nTRD,trondheim,212000\n";

/** Holds the `held` transform until released. */
let release: () => void = () => {};
let held = new Promise<void>((resolve) => (release = resolve));

const transforms: Record<string, EtlTransform> = {
  held: async (row) => {
    await held;
    return row;
  },
  // Drops empty places, names them in capitals; async like a lookup would be.
  tidy: async (row) => {
    await Promise.resolve();
    return Number(row.population) === 0 ? null : { ...row, name: String(row.name).toUpperCase() };
  },
  same: (row) => row,
};

/** A source server: each path answers its current body, with an ETag unless `plain`; `/down` answers 503. */
async function sourceServer(): Promise<{ origin: string; files: Map<string, { body: string; plain?: boolean }>; hits: Map<string, number>; server: RunningServer }> {
  const files = new Map<string, { body: string; plain?: boolean }>();
  const hits = new Map<string, number>();
  const server = await serve((request) => {
    const path = new URL(request.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = files.get(path);
    if (!file) return new Response("down for maintenance", { status: 503, statusText: "Service Unavailable" });
    if (file.plain) return new Response(file.body);
    const etag = `"${file.body.length}-${[...file.body].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) >>> 0, 7)}"`;
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: { etag } });
    return new Response(file.body, { headers: { etag } });
  }, { port: 0 });
  return { origin: `http://127.0.0.1:${server.port}`, files, hits, server };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the run's job has finished (every attempt), then answers the run. */
async function finished(app: ServiceApp, pipeline: string, id: string): Promise<EtlRunRecord> {
  await until(async () => (await json<{ status: string }>(await call(app, "GET", `/api/v1/jobs/${id}`), 200)).status, (s) => s === "completed" || s === "failed", `job ${id}`);
  return await json<EtlRunRecord>(await call(app, "GET", `/api/v1/etl/${pipeline}/runs/${id}`), 200);
}

async function runNow(app: ServiceApp, pipeline: string, query = ""): Promise<EtlRunRecord> {
  const run = await json<EtlRunRecord>(await call(app, "POST", `/api/v1/etl/${pipeline}/$run${query}`), 202);
  return await finished(app, pipeline, run.id);
}

async function cities(app: ServiceApp): Promise<Record<string, unknown>[]> {
  const page = await json<{ items: Record<string, unknown>[] }>(await call(app, "GET", "/api/v1/cities?size=100&page=1&sort=code"), 200);
  return page.items;
}

for (const make of [sqliteFileStore, postgresStore]) {
  const store: TestStore = make();
  describe(`ETL on ${store.name}`, () => {
    let source: Awaited<ReturnType<typeof sourceServer>>;
    let app: ServiceApp;
    let dir: string;

    before(async () => {
      await (await store.open()).close();
      dir = mkdtempSync(join(tmpdir(), "chapkit-etl-"));
      source = await sourceServer();
      source.files.set("/towns.csv", { body: CITIES_CSV });
      app = await new ServiceBuilder({ info: { display_name: "ETL" } })
        .withSettings({ env: {} })
        .withDatabase(store.url())
        .withJobs({ queuePollMs: 20, scheduleTickMs: 50 })
        .withEtl({
          transforms,
          fileRoots: [dir],
          maxAttempts: 2,
          backoff: { delay_ms: 10, factor: 1, jitter: false },
          pipelines: [{
            name: "towns",
            schedule: "* * * * * *",
            source: { kind: "http", url: `${source.origin}/towns.csv` },
            transform: "tidy",
            load: { collection: "towns" },
          }],
        })
        .withEntity(City)
        .withEntity(Town)
        .build();
    });

    after(async () => {
      await app?.chapkit.close();
      await source?.server.stop(100);
      rmSync(dir, { recursive: true, force: true });
      await store.cleanup();
    });

    test("a scheduled pipeline loads the source's rows through its transform, and skips the source while it is unchanged", async () => {
      const runs = await until(
        async () => (await json<{ items: EtlRunRecord[] }>(await call(app, "GET", "/api/v1/etl/towns/runs?size=10"), 200)).items,
        (items) => items.some((run) => run.status === "completed") && items.some((run) => run.status === "skipped"),
        "a completed and a skipped run",
      );
      const done = runs.find((run) => run.status === "completed")!;
      assert.equal(done.trigger, "schedule");
      assert.deepEqual([done.rows_read, done.rows_dropped, done.rows_inserted, done.rows_invalid], [4, 1, 3, 0]);
      assert.match(done.fingerprint!, /^etag:/);
      const skipped = runs.find((run) => run.status === "skipped")!;
      assert.equal(skipped.rows_read, 0);
      assert.match(skipped.error!, /has not changed/);
      const towns = await json<{ items: { name: string }[] }>(await call(app, "GET", "/api/v1/towns?size=100&page=1&sort=name"), 200);
      assert.deepEqual(towns.items.map((town) => town.name), ["BERGEN", "OSLO", "TRONDHEIM"]);
      // Still three: the unchanged source loaded nothing more.
      const pipeline = await json<{ next_run_at: string | null; origin: string }>(await call(app, "GET", "/api/v1/etl/towns"), 200);
      assert.equal(pipeline.origin, "code");
      assert.ok(pipeline.next_run_at);
      const stopped = await json<{ next_run_at: string | null }>(await call(app, "PUT", "/api/v1/etl/towns", {
        source: { kind: "http", url: `${source.origin}/towns.csv` },
        transform: "tidy",
        load: { collection: "towns" },
      }), 200);
      assert.equal(stopped.next_run_at, null);
      assert.equal((await call(app, "GET", "/api/v1/schedules/etl:towns")).status, 404);
    });

    test("skip: invalid rows are reported by row number and the valid ones load", async () => {
      source.files.set("/mixed.csv", { body: "code,name,population\nAAA,alpha,10\nBBB,,20\nCCC,gamma,-5\nDDD,delta,40\n" });
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "mixed-skip",
        source: { kind: "http", url: `${source.origin}/mixed.csv` },
        load: { collection: "cities", on_invalid: "skip" },
      }), 201);
      const run = await runNow(app, "mixed-skip");
      assert.equal(run.status, "completed");
      assert.equal(run.trigger, "manual");
      assert.deepEqual([run.rows_read, run.rows_invalid, run.rows_loaded], [4, 2, 2]);
      assert.deepEqual(run.errors.map((error) => error.row), [2, 3]);
      assert.deepEqual(run.errors[0]!.errors[0]!.loc, ["rows", 2, "name"]);
      assert.equal(run.errors[0]!.object, `${source.origin}/mixed.csv`);
      assert.deepEqual((await cities(app)).map((city) => city.code), ["AAA", "DDD"]);
    });

    test("fail-all: one invalid row fails the run and leaves the collection unchanged", async () => {
      const before = await cities(app);
      source.files.set("/strict.csv", { body: "code,name,population\nEEE,epsilon,10\nFFF,phi,not-a-number\n" });
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "strict",
        source: { kind: "http", url: `${source.origin}/strict.csv` },
        load: { collection: "cities" },
      }), 201);
      const run = await runNow(app, "strict");
      assert.equal(run.status, "failed");
      assert.equal(run.attempts, 1, "invalid data is not retried");
      assert.deepEqual([run.rows_read, run.rows_invalid, run.rows_loaded], [2, 1, 0]);
      assert.match(run.error!, /1 of 2 rows are invalid; nothing was loaded/);
      assert.deepEqual(run.errors[0]!.errors[0]!.loc, ["rows", 2, "population"]);
      assert.deepEqual(await cities(app), before);
    });

    test("fail-all: a row the store refuses (a taken unique key) rolls back the rows written before it", async () => {
      const before = await cities(app);
      source.files.set("/taken.csv", { body: "code,name,population\nNEW,new,1\nAAA,again,2\n" });
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "taken",
        source: { kind: "http", url: `${source.origin}/taken.csv` },
        load: { collection: "cities" },
      }), 201);
      const run = await runNow(app, "taken");
      assert.deepEqual([run.status, run.rows_invalid, run.rows_loaded], ["failed", 1, 0], JSON.stringify(run));
      assert.equal(run.errors[0]!.row, 2);
      assert.deepEqual(await cities(app), before);
    });

    test("upsert updates the rows whose key exists and inserts the rest", async () => {
      source.files.set("/upsert.ndjson", {
        plain: true,
        body: '{"code":"AAA","name":"alpha two","population":11}\n{"code":"GGG","name":"gimel","population":7}\n{"code":"GGG","name":"gimel two","population":8}\n',
      });
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "upsert",
        source: { kind: "http", url: `${source.origin}/upsert.ndjson` },
        transform: "same",
        load: { collection: "cities", mode: "upsert", key: "code" },
      }), 201);
      const run = await runNow(app, "upsert");
      assert.equal(run.status, "completed", JSON.stringify(run));
      assert.deepEqual([run.rows_inserted, run.rows_updated], [1, 2]);
      assert.match(run.fingerprint!, /^sha256:/);
      const byCode = new Map((await cities(app)).map((city) => [city.code, city]));
      assert.equal(byCode.get("AAA")!.name, "alpha two");
      assert.equal(byCode.get("GGG")!.name, "gimel two");
      // No ETag: the body's hash tells that nothing changed.
      assert.equal((await runNow(app, "upsert")).status, "skipped");
    });

    test("a file source is read again only when its size or modification time changed, and $run?force=true reads it anyway", async () => {
      const path = join(dir, "places.json");
      writeFileSync(path, JSON.stringify({ data: { places: [{ code: "HHH", name: "eta", population: 1 }] } }));
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "places",
        source: { kind: "file", path },
        format: "json",
        json_path: "data.places",
        load: { collection: "cities", mode: "upsert", key: "code" },
      }), 201);
      assert.equal((await runNow(app, "places")).rows_inserted, 1);
      assert.equal((await runNow(app, "places")).status, "skipped");
      assert.equal((await runNow(app, "places", "?force=true")).rows_updated, 1);
      writeFileSync(path, JSON.stringify({ data: { places: [{ code: "HHH", name: "eta", population: 2 }, { code: "III", name: "iota", population: 3 }] } }));
      utimesSync(path, new Date(), new Date(Date.now() + 5_000));
      const changed = await runNow(app, "places");
      assert.deepEqual([changed.status, changed.rows_updated, changed.rows_inserted], ["completed", 1, 1]);
    });

    test("a source that is down fails the run with the reason, after the job policy's attempts", async () => {
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "down",
        source: { kind: "http", url: `${source.origin}/down.csv` },
        load: { collection: "cities" },
      }), 201);
      const hits = source.hits.get("/down.csv") ?? 0;
      const run = await runNow(app, "down");
      assert.equal(run.status, "failed");
      assert.equal(run.attempts, 2);
      assert.equal(run.error, `Source ${source.origin}/down.csv answered 503 Service Unavailable`);
      assert.equal(source.hits.get("/down.csv")! - hits, 2);
      const job = await json<{ status: string; attempts: number }>(await call(app, "GET", `/api/v1/jobs/${run.id}`), 200);
      assert.deepEqual([job.status, job.attempts], ["failed", 2]);
      const missing = join(dir, "missing.csv");
      await json(await call(app, "POST", "/api/v1/etl", { name: "missing", source: { kind: "file", path: missing }, load: { collection: "cities" } }), 201);
      assert.match((await runNow(app, "missing")).error!, new RegExp(`^Source file ${missing} cannot be read: .*ENOENT`));
    });

    test("an XLSX file loads through the bulk importer's reader", async () => {
      // Written by the exporter's streaming writer: exceljs' in-memory writer orders the zip's entries
      // differently from run to run, and its streaming reader fails on a sheet that precedes workbook.xml.
      const rows = (async function* () {
        yield* [["code", "name", "population"], ["JJJ", "kappa", 12], ["KKK", "lambda", 13]];
      })();
      const path = join(dir, "places.xlsx");
      writeFileSync(path, new Uint8Array(await new Response(await xlsxStream("places", rows)).arrayBuffer()));
      await json(await call(app, "POST", "/api/v1/etl", { name: "sheet", source: { kind: "file", path }, load: { collection: "cities" } }), 201);
      const run = await runNow(app, "sheet");
      assert.deepEqual([run.status, run.rows_inserted], ["completed", 2], JSON.stringify(run));
      const byCode = new Map((await cities(app)).map((city) => [city.code, city]));
      assert.equal(byCode.get("KKK")!.population, 13);
    });

    test("a tick while a run of the pipeline is still loading is skipped, and the load finishes", async () => {
      source.files.set("/slow.csv", { body: "code,name,population\nLLL,mu,1\n" });
      await json(await call(app, "POST", "/api/v1/etl", {
        name: "slow",
        source: { kind: "http", url: `${source.origin}/slow.csv` },
        transform: "held",
        load: { collection: "cities" },
      }), 201);
      const first = await json<EtlRunRecord>(await call(app, "POST", "/api/v1/etl/slow/$run"), 202);
      await until(async () => (await json<EtlRunRecord>(await call(app, "GET", `/api/v1/etl/slow/runs/${first.id}`), 200)).status, (s) => s === "running", "the first run");
      assert.equal((await json<EtlRunRecord>(await call(app, "POST", "/api/v1/etl/slow/$run"), 202)).id, first.id, "$run answers the run in progress");
      const jobs = app.chapkit.context.get<JobRunner>("jobs");
      const { record } = await jobs.enqueue("etl.run", { pipeline: "slow", trigger: "schedule" });
      const tick = await finished(app, "slow", record.id);
      assert.equal(tick.status, "skipped");
      assert.equal(tick.error, `Run ${first.id} of this pipeline is still running`);
      release();
      assert.equal((await finished(app, "slow", first.id)).status, "completed");
      held = new Promise<void>((resolve) => (release = resolve));
    });

    test("a definition naming an unknown transform or collection or a bad cron is a 422 naming each", async () => {
      const response = await call(app, "POST", "/api/v1/etl", {
        name: "broken",
        schedule: "every day",
        source: { kind: "http", url: "ftp://example.org/x.csv" },
        transform: "nope",
        load: { collection: "planets" },
      });
      assert.equal(response.status, 422);
      assert.match(response.headers.get("content-type")!, /application\/problem\+json/);
      const problem = await response.json() as { type: string; errors: { loc: unknown[]; msg: string }[] };
      assert.equal(problem.type, "urn:chapkit:error:validation-failed");
      const byLoc = new Map(problem.errors.map((error) => [error.loc.join("."), error.msg]));
      assert.equal(byLoc.get("body.transform"), 'No transform named "nope"; registered: held, same, tidy');
      assert.equal(byLoc.get("body.load.collection"), 'No collection named "planets"; installed: cities, towns');
      assert.ok(byLoc.has("body.schedule"));
      assert.equal(byLoc.get("body.source.url"), "Input should be an http or https URL");
      assert.equal((await call(app, "GET", "/api/v1/etl/broken")).status, 404);
      const unknownFormat = await call(app, "POST", "/api/v1/etl", { name: "nofmt", source: { kind: "file", path: join(dir, "data") }, load: { collection: "cities" } });
      assert.equal(unknownFormat.status, 422);
      const outside = await call(app, "POST", "/api/v1/etl", { name: "outside", source: { kind: "file", path: join(dir, "..", "x.csv") }, load: { collection: "cities" } });
      const refused = await json<{ errors: { loc: unknown[]; msg: string }[] }>(outside, 422);
      assert.deepEqual(refused.errors.map((error) => [error.loc.join("."), error.msg]), [["body.source.path", `The path is outside the allowed directories: ${dir}`]]);
      const taken = await call(app, "POST", "/api/v1/etl", { name: "strict", source: { kind: "file", path: join(dir, "a.csv") }, load: { collection: "cities" } });
      assert.equal(taken.status, 409);
    });

    test("run history is paged newest first, and a deleted pipeline keeps no schedule", async () => {
      const first = await json<{ items: EtlRunRecord[]; total: number; pages: number }>(await call(app, "GET", "/api/v1/etl/places/runs?size=2"), 200);
      assert.equal(first.total, 4);
      assert.equal(first.pages, 2);
      assert.deepEqual(first.items.map((run) => run.status), ["completed", "completed"]);
      const second = await json<{ items: EtlRunRecord[] }>(await call(app, "GET", "/api/v1/etl/places/runs?size=2&page=2"), 200);
      assert.deepEqual(second.items.map((run) => run.status), ["skipped", "completed"]);
      assert.ok(second.items[0]!.id < first.items[1]!.id);
      assert.equal((await call(app, "GET", "/api/v1/etl/places/runs?size=0")).status, 422);
      assert.equal((await call(app, "GET", "/api/v1/etl/nothing/runs")).status, 404);
      assert.equal((await call(app, "DELETE", "/api/v1/etl/places")).status, 204);
      assert.equal((await call(app, "DELETE", "/api/v1/etl/places")).status, 404);
      const listed = await json<{ name: string }[]>(await call(app, "GET", "/api/v1/etl"), 200);
      assert.ok(!listed.some((pipeline) => pipeline.name === "places"));
    });
  });
}

describe("ETL in a service's build", () => {
  test("a code pipeline that does not check out fails the build with a configuration problem naming it", async () => {
    const building = new ServiceBuilder({ info: { display_name: "ETL" } })
      .withSettings({ env: {} })
      .withJobs()
      .withEntity(City)
      .withEtl({ transforms, pipelines: [{ name: "bad", source: { kind: "file", path: "/tmp/x.csv" }, transform: "nope", load: { collection: "cities" } }] })
      .build();
    await assert.rejects(building, (error: unknown) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, /ETL pipeline "bad" in withEtl\(\): transform: No transform named "nope"; registered: held, same, tidy/);
      return true;
    });
  });

  test("withEtl() needs withJobs(), and the withEntity collections its code pipelines load into", async () => {
    const pipelines = [{ name: "p", source: { kind: "file" as const, path: "/tmp/x.csv" }, load: { collection: "cities" } }];
    await assert.rejects(new ServiceBuilder({ info: { display_name: "ETL" } }).withSettings({ env: {} }).withEtl().build(), /withEtl\(\) requires withJobs\(\)/);
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "ETL" } }).withSettings({ env: {} }).withJobs().withEtl({ pipelines }).build(),
      /withEtl\(\) requires withEntity\(<cities definition>\)/,
    );
  });
});

describe("ETL from an S3 prefix (s3rver)", () => {
  const store = sqliteFileStore();
  let server: Emulator;
  let app: ServiceApp;
  let blobs: S3BlobStore;

  before(async () => {
    server = await startS3rver();
    blobs = new S3BlobStore({ bucket: "test", endpoint: server.origin, style: "path", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    app = await new ServiceBuilder({ info: { display_name: "ETL S3" }, settings: { storage: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } } })
      .withSettings({ env: {} })
      .withDatabase(store.url())
      .withJobs({ queuePollMs: 20 })
      .withEntity(City)
      .withEtl({
        pipelines: [{
          name: "drops",
          source: { kind: "s3", url: `s3://test/drops/?endpoint=${encodeURIComponent(server.origin)}&style=path` },
          load: { collection: "cities", mode: "upsert", key: "code" },
        }],
      })
      .build();
  });

  after(async () => {
    await app?.chapkit.close();
    await server?.stop();
    await store.cleanup();
  });

  test("each run loads only the objects no earlier run loaded", async () => {
    await blobs.put("drops/2026-11-01.csv", new TextEncoder().encode("code,name,population\nAAA,alpha,1\nBBB,beta,2\n"));
    await blobs.put("drops/2026-11-02.ndjson", new TextEncoder().encode('{"code":"CCC","name":"gamma","population":3}\n'));
    await blobs.put("elsewhere.csv", new TextEncoder().encode("code,name,population\nZZZ,zeta,9\n"));
    const first = await runNow(app, "drops");
    assert.equal(first.status, "completed", JSON.stringify(first));
    assert.deepEqual([first.rows_read, first.rows_inserted], [3, 3]);
    assert.equal(first.fingerprint, "s3:2 new: drops/2026-11-01.csv, drops/2026-11-02.ndjson");
    assert.equal((await runNow(app, "drops")).status, "skipped");
    await blobs.put("drops/2026-11-03.csv", new TextEncoder().encode("code,name,population\nAAA,alpha again,4\n"));
    const third = await runNow(app, "drops");
    assert.deepEqual([third.status, third.rows_read, third.rows_updated, third.rows_inserted], ["completed", 1, 1, 0]);
    assert.deepEqual((await cities(app)).map((city) => `${city.code}:${city.population}`), ["AAA:4", "BBB:2", "CCC:3"]);
  });
});
