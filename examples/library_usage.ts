/**
 * chapkit as a library, without HTTP: two entities of your own (sites and
 * their readings) stored through managers, on in-memory SQLite or on the
 * database in `DATABASE_URL` (a PostgreSQL run uses a schema of its own and
 * drops it at the end). Prints what it does and exits 0.
 *
 *   bun examples/library_usage.ts
 *   deno run -A examples/library_usage.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bun examples/library_usage.ts
 */
import { Type } from "@sinclair/typebox";
import {
  ConflictError,
  entityInputSchema,
  entityOutputSchema,
  InvalidUlidError,
  Manager,
  NotFoundError,
  parseUlid,
} from "chapkit";
import {
  createRepository,
  defineTable,
  type EntityRecord,
  migrate,
  openDatabase,
  tableMigration,
} from "chapkit/db";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const url = env.DATABASE_URL || "sqlite::memory:";
const postgres = /^postgres(ql)?:/.test(url);
const schema = `chapkit_library_usage_${Date.now().toString(36)}`;

// 1. Tables: identifiers are checked once here, never taken from input.
const sitesTable = defineTable({
  name: "sites",
  columns: {
    name: { type: "text", unique: true },
    region: { type: "text", indexed: true },
    tags: { type: "json" },
  },
  searchable: ["name", "region"],
});
const readingsTable = defineTable({
  name: "readings",
  columns: {
    site_id: { type: "ulid", references: { table: "sites", onDelete: "cascade" } },
    value: { type: "real" },
    taken_at: { type: "timestamp" },
  },
});

// 2. Schemas: what clients send (validated, coerced, defaulted) and what they get back.
const siteFields = { name: Type.String({ minLength: 1 }), region: Type.String(), tags: Type.Array(Type.String(), { default: [] }) };
const SiteIn = entityInputSchema("SiteIn", siteFields);
const SiteOut = entityOutputSchema("SiteOut", siteFields);
const readingFields = { site_id: Type.String(), value: Type.Number(), taken_at: Type.String() };
const ReadingIn = entityInputSchema("ReadingIn", readingFields);
const ReadingOut = entityOutputSchema("ReadingOut", readingFields);

type Site = EntityRecord & { name: string; region: string; tags: string[] };
type Reading = EntityRecord & { site_id: string; value: number; taken_at: string };

// 3. The store, migrated: each table's first migration comes from its definition.
const db = await openDatabase(url, postgres ? { postgres: { schema } } : {});
const report = await migrate(db, [tableMigration(sitesTable), tableMigration(readingsTable)]);
console.log(`store: ${db.dialect} (${db.url.replace(/\?.*$/, "")})`);
console.log(`migrations applied: ${report.applied.join(", ")}`);

// 4. Managers: validation, hooks and output mapping over a repository.
const sites = new Manager({
  repository: createRepository<Site>(db, sitesTable),
  input: SiteIn,
  output: SiteOut,
  hooks: { beforeCreate: (input) => ({ ...input, name: input.name.trim() }) },
});
const readings = new Manager({ repository: createRepository<Reading>(db, readingsTable), input: ReadingIn, output: ReadingOut });

try {
  const oslo = await sites.create({ name: "  Oslo  ", region: "north", tags: ["coastal"] });
  const lusaka = await sites.create({ name: "Lusaka", region: "south" });
  await sites.create({ name: "Bergen", region: "north", extra: "dropped" });
  console.log(`created sites: ${(await sites.list()).map((s) => s.name).join(", ")}`);
  console.log(`oslo id ${oslo.id}, created_at ${oslo.created_at}`);

  const rows = [3.5, 4.25, 1.0].map((value, i) => ({
    site_id: oslo.id,
    value,
    taken_at: new Date(Date.UTC(2026, 0, i + 1)).toISOString(),
  }));
  for (const row of rows) await readings.create(row);
  await readings.create({ site_id: lusaka.id, value: "27.5", taken_at: "2026-01-01T12:00:00.000Z" });
  console.log(`created readings: ${await readings.repository.count()}`);

  const north = await sites.list({
    filter: { kind: "compare", field: "region", op: "eq", value: "north" },
    sort: [{ field: "name", direction: "asc" }],
  });
  console.log(`north sites by name: ${north.map((s) => s.name).join(", ")}`);
  const high = await readings.list({
    filter: { kind: "compare", field: "value", op: "gt", value: 3 },
    sort: [{ field: "value", direction: "desc" }],
  });
  console.log(`readings above 3, highest first: ${high.map((r) => r.value).join(", ")}`);
  const page = await sites.page(1, 2);
  console.log(`page 1 of sites (size 2): ${page.items.length} items, total ${page.total}, pages ${page.pages}`);
  console.log(`search "oslo": ${(await sites.list({ search: "oslo" })).map((s) => s.name).join(", ")}`);

  const renamed = await sites.update(lusaka.id, { name: "Lusaka Central", region: "south", tags: ["capital"] });
  console.log(`updated: ${renamed.name}, tags ${renamed.tags.join(",")}, updated_at moved: ${renamed.updated_at > lusaka.updated_at}`);

  try {
    await sites.create({ name: "Oslo", region: "east" });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    console.log(`duplicate name refused: ${error.status} ${error.title}`);
  }
  try {
    await sites.create({ region: 5 });
  } catch (error) {
    const problem = (error as ConflictError).toProblem();
    console.log(`invalid body refused: ${problem.status} ${JSON.stringify(problem.errors)}`);
  }
  try {
    await sites.get("01K72P5N5KCRM6MD3BRE4P0999");
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    console.log(`unknown id: ${error.status} ${error.message}`);
  }
  try {
    parseUlid("01k72p5n5kcrm6md3bre4p0999");
  } catch (error) {
    if (!(error instanceof InvalidUlidError)) throw error;
    console.log(`malformed id: ${error.status} ${error.message}`);
  }

  try {
    await sites.repository.transaction(async (tx) => {
      await tx.insert({ name: "Temporary", region: "west", tags: [] });
      throw new Error("changed my mind");
    });
  } catch {
    console.log(`transaction rolled back: ${(await sites.repository.count()) === 3 ? "nothing left behind" : "LEAKED"}`);
  }

  await sites.delete(oslo.id);
  console.log(`deleted Oslo; its readings went with it: ${await readings.repository.count()} reading(s) left`);
  console.log("done");
} finally {
  if (postgres) await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}
