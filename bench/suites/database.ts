// database: streaming a large list and reusing prepared statements, on a SQLite
// file and on PostgreSQL.
// - stream: `Repository.stream` over 1,000,000 rows (100,000 with --quick); the
//   figure is the resident-memory growth while streaming, against reading the
//   same rows with `findMany` (everything in memory at once).
// - prepared: 5,000 reads by id through the driver, whose statements are
//   prepared once per shape (postgres.js `prepare`, a SQLite statement cache),
//   against the same statement parsed and planned on every call.
import { Database } from "bun:sqlite";
import postgres from "postgres";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { storeFactories } from "../lib/stores.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const readings = defineTable({ name: "readings", columns: { site: { type: "text" }, value: { type: "real" }, note: { type: "text" } } });
interface Reading extends EntityRecord {
  site: string;
  value: number;
  note: string;
}

const MB = 1024 * 1024;
const rss = (): number => process.memoryUsage().rss;
function settle(): void {
  Bun.gc(true);
  Bun.gc(true);
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const total = context.quick ? 100_000 : 1_000_000;
  const lookups = context.quick ? 1000 : 5000;
  const rows: BenchRow[] = [];
  for (const factory of storeFactories(context.postgresUrl)) {
    const store = await factory.open();
    const db = await openDatabase(store.url);
    try {
      await migrate(db, [tableMigration(readings)]);
      context.log(`${factory.kind}: seeding ${total} rows`);
      const seed = factory.kind === "postgres"
        ? `INSERT INTO readings (id, created_at, updated_at, site, value, note)
           SELECT lpad(i::text, 26, '0'), now(), now(), 'site-' || (i % 100), i * 0.5, repeat('x', 40) FROM generate_series(1, ${total}) AS i`
        : `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${total})
           INSERT INTO readings (id, created_at, updated_at, site, value, note)
           SELECT printf('%026d', i), '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'site-' || (i % 100), i * 0.5, printf('%.40c', 'x') FROM n`;
      await db.exec(seed);
      const repository = createRepository<Reading>(db, readings);

      // Streaming: peak resident memory above the settled level while every row passes by.
      settle();
      let before = rss();
      let peak = before;
      let seen = 0;
      for await (const _row of repository.stream({}, { batchSize: 1000 })) {
        if (++seen % 10_000 === 0) peak = Math.max(peak, rss());
      }
      if (seen !== total) throw new Error(`streamed ${seen} of ${total} rows`);
      const streamed = (peak - before) / MB;
      settle();
      before = rss();
      const all = await repository.findMany({});
      const loaded = (Math.max(rss(), before) - before) / MB;
      if (all.length !== total) throw new Error(`read ${all.length} of ${total} rows`);
      all.length = 0;
      rows.push(compare({ suite: "database", case: `stream ${total.toLocaleString("en")} rows (vs findMany)`, store: factory.kind, metric: "RSS growth", unit: "MB" }, Math.max(streamed, 0.01), Math.max(loaded, 0.01), false));
      context.log(`${factory.kind}: stream +${round(streamed)} MB, findMany +${round(loaded)} MB`);

      // Prepared statements: the driver's reads (a statement prepared once per shape) against the
      // same client parsing and planning the statement on every call.
      const ids = Array.from({ length: lookups }, (_, i) => String(1 + ((i * 7919) % total)).padStart(26, "0"));
      const sql = `SELECT "id", "site", "value", "note" FROM "readings" WHERE "id" = ?`;
      const timed = async (read: (id: string) => unknown): Promise<number> => {
        for (const id of ids.slice(0, 500)) await read(id);
        const start = performance.now();
        for (const id of ids) await read(id);
        return lookups / ((performance.now() - start) / 1000);
      };
      let prepared: number;
      let unprepared: number;
      if (factory.kind === "postgres") {
        const one = await openDatabase(store.url, { postgres: { max: 1 } });
        prepared = await timed((id) => one.query(sql, [id]));
        await one.close();
        const raw = postgres(store.url, { max: 1, onnotice: () => {} });
        const text = sql.replace("?", "$1");
        unprepared = await timed((id) => raw.unsafe(text, [id], { prepare: false }));
        await raw.end({ timeout: 1 });
      } else {
        prepared = await timed((id) => db.query(sql, [id]));
        const raw = new Database(store.url.slice("sqlite:".length));
        unprepared = await timed((id) => {
          const statement = raw.prepare(sql);
          const found = statement.all(id);
          statement.finalize();
          return Promise.resolve(found);
        });
        raw.close();
      }
      rows.push(compare({ suite: "database", case: "read by id, prepared once (vs parsed per call)", store: factory.kind, metric: "throughput", unit: "reads/s" }, prepared, unprepared, true));
    } finally {
      await db.close();
      await store.drop();
    }
  }
  return rows;
}

export const suite: Suite = {
  name: "database",
  description: "Repository.stream memory over 1M rows; prepared statements against per-call parsing",
  run,
};
