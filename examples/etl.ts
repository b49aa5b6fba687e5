/**
 * A facility registry kept in step with an upstream CSV: every night (or on
 * `ETL_SCHEDULE`) the `registry` pipeline fetches `SOURCE_URL`, drops closed
 * facilities, tidies names, and upserts the rows into `facilities` by their
 * code, skipping (and reporting) rows that do not validate. An unchanged
 * file (same ETag, Last-Modified or body) is not loaded again; a source that
 * is down is retried with back-off by the job queue.
 *
 *   SOURCE_URL=https://registry.example.org/facilities.csv bun examples/etl.ts
 *   # or: deno run -A examples/etl.ts (same variables)
 *
 *   curl -X POST 'localhost:8000/api/v1/etl/registry/$run'      # run now (202)
 *   curl localhost:8000/api/v1/etl/registry/runs                # history: counts, refused rows, fingerprint
 *   curl localhost:8000/api/v1/facilities                       # the loaded rows
 *
 * The CSV has a header `facility_code,facility_name,beds,status`.
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default `sqlite:./etl.db`), `SOURCE_URL`
 * (required), `ETL_SCHEDULE` (cron, default `0 2 * * *`: 02:00 UTC every night).
 */
import { Type } from "@sinclair/typebox";
import { defineEntity, field, ServiceBuilder } from "chapkit";
import type { EtlTransform } from "chapkit/integrations";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const source = env.SOURCE_URL;
if (!source) throw new Error("Set SOURCE_URL (an http(s) URL of a CSV file) to start this example");

const Facility = defineEntity({
  table: "facilities",
  name: "Facility",
  fields: {
    code: field(Type.String({ minLength: 1 }), { unique: true }),
    name: Type.String({ minLength: 1 }),
    beds: Type.Integer({ minimum: 0 }),
  },
});

// A row as read from the CSV → a Facility, or null to leave it out.
const fromRegistry: EtlTransform = (row) =>
  row.status === "closed" ? null : { code: row.facility_code, name: String(row.facility_name ?? "").trim(), beds: row.beds };

await new ServiceBuilder({
  info: { display_name: "Facility registry", version: "1.0.0", summary: "Facilities imported nightly from the national registry" },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./etl.db",
})
  .withLogging()
  .withHealth()
  .withJobs()
  .withEntity(Facility)
  .withEtl({
    transforms: { fromRegistry },
    pipelines: [{
      name: "registry",
      schedule: env.ETL_SCHEDULE ?? "0 2 * * *",
      source: { kind: "http", url: source },
      format: "csv",
      transform: "fromRegistry",
      load: { collection: "facilities", mode: "upsert", key: "code", on_invalid: "skip" },
    }],
  })
  .listen(Number(env.PORT ?? 8000));
