/**
 * Export and import of a collection (`$export`, `$import`) over HTTP, on
 * every store: CSV, NDJSON and XLSX exports streamed with the list query's
 * filter, sort and fields; imports validated per row with a dry-run report,
 * all-or-nothing and skip-invalid modes; problems for files that cannot be
 * read.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import ExcelJS from "exceljs";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { BASE, call, json } from "../_support/http.ts";
import { testStores } from "../_support/stores.ts";
import { WeatherConfig } from "../modules/artifact/_fixture.ts";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

function send(app: ServiceApp, path: string, body: string | Uint8Array, type: string): Promise<Response> {
  return app.handle(new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": type },
    body: (typeof body === "string" ? new TextEncoder().encode(body) : body) as Uint8Array<ArrayBuffer>,
  }));
}

async function workbook(rows: unknown[][]): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("configs");
  for (const row of rows) sheet.addRow(row);
  return new Uint8Array(await book.xlsx.writeBuffer());
}

async function sheetRows(bytes: Uint8Array): Promise<unknown[][]> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes.buffer as ArrayBuffer);
  const rows: unknown[][] = [];
  book.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

for (const store of testStores()) {
  describe(`export and import of a collection on ${store.name}`, () => {
    let app: ServiceApp;
    const names = async () => (await json<{ name: string }[]>(await call(app, "GET", "/api/v1/config?sort=name"), 200)).map((c) => c.name);
    before(async () => {
      app = await new ServiceBuilder({ info: { display_name: "Exchange" } })
        .withSettings({ env: { LOG_LEVEL: "warn" } })
        .withDatabase(await store.open())
        .withConfig(WeatherConfig)
        .build();
    });
    beforeEach(async () => {
      await app.chapkit.context.db.exec(`DELETE FROM "configs"`);
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    async function seed(): Promise<void> {
      for (const [name, min] of [["alpha", 3], ["beta, \"quoted\"", 7], ["gamma", 9]] as const) {
        await json(await call(app, "POST", "/api/v1/config", { name, data: { min_samples: min } }), 201);
      }
    }

    it("exports CSV with a header row, the list's filter and sort, and object fields as JSON", async () => {
      await seed();
      const response = await call(app, "GET", "/api/v1/config/$export?format=csv&filter=data.min_samples%20%3E%3D%205&sort=-name");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/csv/);
      assert.equal(response.headers.get("content-disposition"), 'attachment; filename="config.csv"');
      const lines = (await response.text()).trimEnd().split("\n");
      assert.equal(lines[0], "id,created_at,updated_at,name,data");
      assert.equal(lines.length, 3);
      assert.match(lines[1]!, /,gamma,"\{""min_samples"":9,""normalize_features"":true\}"$/);
      assert.match(lines[2]!, /,"beta, ""quoted""",/);
    });

    it("exports the chosen fields only, JSON paths included", async () => {
      await seed();
      const text = await (await call(app, "GET", "/api/v1/config/$export?fields=name,data.min_samples&sort=name")).text();
      assert.equal(text, 'name,data.min_samples\nalpha,3\n"beta, ""quoted""",7\ngamma,9\n');
    });

    it("exports NDJSON, one item a line", async () => {
      await seed();
      const response = await call(app, "GET", "/api/v1/config/$export?format=ndjson&sort=name");
      assert.equal(response.headers.get("content-type"), "application/x-ndjson");
      const items = (await response.text()).trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(items.map((item) => item.name), ["alpha", 'beta, "quoted"', "gamma"]);
    });

    it("exports an XLSX workbook that imports back", async () => {
      await seed();
      const response = await call(app, "GET", "/api/v1/config/$export?format=xlsx&sort=name&fields=name,data");
      assert.equal(response.headers.get("content-type"), XLSX);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const rows = await sheetRows(bytes);
      assert.deepEqual(rows[0], ["name", "data"]);
      assert.equal(rows[1]![0], "alpha");
      await app.chapkit.context.db.exec(`DELETE FROM "configs"`);
      const report = await json<{ created: number }>(await send(app, "/api/v1/config/$import", bytes, XLSX), 200);
      assert.equal(report.created, 3);
      const restored = await json<{ name: string; data: { min_samples: number } }[]>(await call(app, "GET", "/api/v1/config?sort=name"), 200);
      assert.deepEqual(restored.map((c) => [c.name, c.data.min_samples]), [["alpha", 3], ['beta, "quoted"', 7], ["gamma", 9]]);
    });

    it("reports a dry run of a CSV import without writing anything", async () => {
      const csv = 'name,data\nnorth,"{""min_samples"": 4}"\n,{}\nsouth,"{""min_samples"": ""many""}"\n';
      const report = await json<Record<string, unknown>>(await send(app, "/api/v1/config/$import?dry_run=true", csv, "text/csv"), 200);
      assert.deepEqual({ ...report, errors: undefined }, { format: "csv", mode: "all", dry_run: true, total: 3, valid: 1, invalid: 2, created: 0, errors: undefined });
      const errors = report.errors as { row: number; errors: { loc: unknown[] }[] }[];
      assert.deepEqual(errors.map((error) => error.row), [2, 3]);
      assert.deepEqual(errors[0]!.errors[0]!.loc, ["rows", 2, "name"]);
      assert.deepEqual(errors[1]!.errors[0]!.loc, ["rows", 3, "data", "min_samples"]);
      assert.deepEqual(await names(), []);
    });

    it("imports nothing when a row is invalid in all-or-nothing mode, answering 422 with each row's errors", async () => {
      const csv = "name,data\nnorth,{}\n,{}\n";
      const response = await send(app, "/api/v1/config/$import", csv, "text/csv");
      const problem = await json<{ type: string; errors: { loc: unknown[] }[]; report: { invalid: number } }>(response, 422);
      assert.equal(problem.type, "urn:chapkit:error:validation-failed");
      assert.deepEqual(problem.errors[0]!.loc, ["rows", 2, "name"]);
      assert.equal(problem.report.invalid, 1);
      assert.deepEqual(await names(), []);
    });

    it("imports the valid rows and reports the others in skip-invalid mode", async () => {
      const ndjson = '{"name":"east","data":{"min_samples":2}}\nnot json\n{"name":"west","data":{}}\n[1]\n';
      const report = await json<{ created: number; invalid: number; errors: { row: number; errors: { type: string }[] }[] }>(
        await send(app, "/api/v1/config/$import?mode=skip-invalid", ndjson, "application/x-ndjson"),
        200,
      );
      assert.equal(report.created, 2);
      assert.equal(report.invalid, 2);
      assert.deepEqual(report.errors.map((error) => [error.row, error.errors[0]!.type]), [[2, "json_invalid"], [4, "dict_type"]]);
      assert.deepEqual(await names(), ["east", "west"]);
    });

    it("answers 400 for files it cannot read and 415 for an unknown format", async () => {
      const broken = await send(app, "/api/v1/config/$import", 'name,data\n"open,{}\n', "text/csv");
      assert.equal(broken.status, 400);
      assert.match((await broken.json()).detail, /not valid CSV: Unterminated quoted field .* line 2/);
      const empty = await send(app, "/api/v1/config/$import", "", "text/csv");
      assert.equal(empty.status, 400);
      const notXlsx = await send(app, "/api/v1/config/$import", "this is no workbook", XLSX);
      assert.equal(notXlsx.status, 400);
      assert.equal((await notXlsx.json()).type, "urn:chapkit:error:bad-request");
      const latin1 = await send(app, "/api/v1/config/$import", new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0xe9, 0x0a]), "text/csv");
      assert.equal(latin1.status, 400);
      const unknown = await call(app, "GET", "/api/v1/config/$export?format=pdf");
      assert.equal(unknown.status, 415);
      const mode = await send(app, "/api/v1/config/$import?mode=some", "name\n", "text/csv");
      assert.equal(mode.status, 422);
      assert.deepEqual(await names(), []);
    });
  });
}
