/** examples/etl.ts loads its source through the transform into `facilities`, and shows the run in its history. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import { type ServiceProcess, startService } from "../_support/service-process.ts";
import { sqliteFileStore } from "../_support/stores.ts";

const store = sqliteFileStore();
let upstream: RunningServer | undefined;
let service: ServiceProcess | undefined;
after(async () => {
  await service?.stop();
  await upstream?.stop(100);
  await store.cleanup();
});

test("a run of the example's pipeline upserts the open facilities and reports the refused row", async () => {
  const csv = "facility_code,facility_name,beds,status\nF1, Central ,120,open\nF2,Old wing,10,closed\nF3,,5,open\nF4,North,30,open\n";
  upstream = await serve(() => new Response(csv, { headers: { "content-type": "text/csv", etag: '"v1"' } }), { port: 0 });
  const script = new URL("../../examples/etl.ts", import.meta.url).pathname;
  service = await startService(script, {
    PORT: "0",
    LOG_FORMAT: "json",
    DATABASE_URL: store.url(),
    SOURCE_URL: `http://127.0.0.1:${upstream.port}/facilities.csv`,
  }, { ready: /"url":"http:\/\/127\.0\.0\.1:(\d+)"/ });
  assert.ok(service.port, service.output());
  const started = await fetch(`${service.url}/api/v1/etl/registry/$run`, { method: "POST" });
  assert.equal(started.status, 202);
  const { id } = await started.json() as { id: string };
  let run: { status: string; rows_read: number; rows_dropped: number; rows_invalid: number; rows_inserted: number; errors: { row: number }[] };
  do {
    await new Promise((resolve) => setTimeout(resolve, 20));
    run = await (await fetch(`${service.url}/api/v1/etl/registry/runs/${id}`)).json() as typeof run;
  } while (run.status === "pending" || run.status === "running");
  assert.deepEqual([run.status, run.rows_read, run.rows_dropped, run.rows_invalid, run.rows_inserted], ["completed", 4, 1, 1, 2], JSON.stringify(run));
  assert.equal(run.errors[0]!.row, 3);
  const facilities = await (await fetch(`${service.url}/api/v1/facilities?sort=code`)).json() as { code: string; name: string }[];
  assert.deepEqual(facilities.map((facility) => `${facility.code}:${facility.name}`), ["F1:Central", "F4:North"]);
});
