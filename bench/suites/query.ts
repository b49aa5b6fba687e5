// query: list pages over a big table on a SQLite file and on PostgreSQL.
// 1,000,000 rows (100,000 with --quick) seeded with insertMany, an index on
// (kind, score). A page is `GET ?kind=…&sort=-score&limit=50&count=false`
// through the CRUD router (in-process app.handle), walked several pages deep
// with cursors, against the same keyset SQL written by hand on the same
// driver; then the cost of the count. Finally $bulk-create rows/s (HTTP
// route and Manager.createMany) against a hand-written batched INSERT.
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import { createLogger } from "../../src/core/logging.ts";
import { Manager } from "../../src/core/manager.ts";
import { entityInputSchema, entityOutputSchema } from "../../src/core/schema.ts";
import { newUlid } from "../../src/core/ulid.ts";
import type { Driver, SqlValue } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { crudRouter } from "../../src/http/crud/crud-router.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { jsonBody } from "../../src/http/json-body.ts";
import { requestContext } from "../../src/http/request-context.ts";
import { closeRoutes } from "../../src/http/routing.ts";
import { storeFactories } from "../lib/stores.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const KINDS = 10;
const LIMIT = 50;
const DEPTH = 5;
const BULK_BATCH = 1000;
const COLUMNS = ["id", "created_at", "updated_at", "kind", "score", "name", "data"];

const events = defineTable({
  name: "bench_events",
  columns: {
    kind: { type: "text" },
    score: { type: "real" },
    name: { type: "text" },
    data: { type: "json" },
  },
  indexes: [{ columns: ["kind", "score"] }],
});

const fields = {
  kind: Type.String(),
  score: Type.Number(),
  name: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
};
const EventIn = entityInputSchema("BenchEventIn", fields);
const EventOut = entityOutputSchema("BenchEventOut", fields);
type EventRecord = EntityRecord & { kind: string; score: number; name: string; data: Record<string, unknown> };

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}

function event(i: number): { kind: string; score: number; name: string; data: Record<string, unknown> } {
  return { kind: `k${i % KINDS}`, score: round(random() * 1e6, 3), name: `event ${i}`, data: { ml_type: i % 3 ? "predictions" : "trained_model", n: i } };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The hand-written page: the same keyset SQL on the same driver, rows serialised as JSON. */
async function handPage(db: Driver, kind: string, after: { score: number; id: string } | null): Promise<{ score: number; id: string } | null> {
  const params: SqlValue[] = [kind];
  let keyset = "";
  if (after) {
    keyset = ` AND "score" <= ? AND ("score" < ? OR ("score" = ? AND "id" > ?))`;
    params.push(after.score, after.score, after.score, after.id);
  }
  params.push(LIMIT + 1);
  const rows = await db.query(
    `SELECT ${COLUMNS.map((c) => `"${c}"`).join(", ")} FROM "bench_events" WHERE "kind" = ?${keyset} ORDER BY "score" DESC, "id" ASC LIMIT ?`,
    params,
  );
  JSON.stringify({ items: rows.slice(0, LIMIT), next_cursor: rows.length > LIMIT ? "x" : null });
  const last = rows[LIMIT - 1];
  return rows.length > LIMIT && last ? { score: Number(last.score), id: String(last.id) } : null;
}

async function seedRows(db: Driver, total: number, log: (m: string) => void): Promise<void> {
  const repo = createRepository<EventRecord>(db, events);
  const chunk = 20_000;
  const start = performance.now();
  for (let offset = 0; offset < total; offset += chunk) {
    const batch = Array.from({ length: Math.min(chunk, total - offset) }, (_, i) => event(offset + i));
    await db.transaction(() => repo.insertMany(batch));
  }
  // The steady state of a table autovacuum has seen: statistics, and a visibility map for index-only counts.
  await db.exec(db.dialect === "postgres" ? `VACUUM ANALYZE "bench_events"` : `ANALYZE "bench_events"`);
  log(`seeded ${total} rows in ${round((performance.now() - start) / 1000, 1)} s`);
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const total = context.quick ? 100_000 : 1_000_000;
  const walks = context.quick ? 60 : 150;
  const bulkRows = context.quick ? 5_000 : 20_000;
  const rows: BenchRow[] = [];
  for (const factory of storeFactories(context.postgresUrl)) {
    const store = await factory.open();
    const db = await openDatabase(store.url);
    const kind = factory.kind;
    try {
      await migrate(db, [tableMigration(events)]);
      await seedRows(db, total, (m) => context.log(`${kind}: ${m}`));
      const manager = new Manager({ repository: createRepository<EventRecord>(db, events), input: EventIn, output: EventOut });
      const logger = createLogger({ write: () => {} });
      const app = closeRoutes(
        new Elysia()
          .use(requestContext({ logger, maxBodyBytes: 64 * 1024 * 1024 }))
          .use(errorHandler({ logger }))
          .use(jsonBody({ maxBodyBytes: 64 * 1024 * 1024 }))
          .use(crudRouter({ prefix: "/events", manager })),
      ) as unknown as Elysia;
      const get = async (query: string): Promise<{ next_cursor: string | null; items: unknown[] }> => {
        const response = await app.handle(new Request(`http://bench/events?${query}`));
        if (response.status !== 200) throw new Error(`GET ${query}: ${response.status} ${await response.text()}`);
        return (await response.json()) as { next_cursor: string | null; items: unknown[] };
      };

      // Walks DEPTH pages of one kind; returns per-page milliseconds.
      const walkChapkit = async (k: string, count: boolean): Promise<number[]> => {
        const times: number[] = [];
        const base = `kind=${k}&sort=-score&limit=${LIMIT}&count=${count}`;
        let cursor: string | null = null;
        for (let page = 0; page < DEPTH; page++) {
          const start = performance.now();
          const body: { next_cursor: string | null; items: unknown[] } = await get(cursor ? `${base}&cursor=${cursor}` : base);
          times.push(performance.now() - start);
          if (body.items.length !== LIMIT) throw new Error(`page of ${body.items.length} rows`);
          cursor = body.next_cursor;
          if (!cursor) break;
        }
        return times;
      };
      const walkHand = async (k: string): Promise<number[]> => {
        const times: number[] = [];
        let after: { score: number; id: string } | null = null;
        for (let page = 0; page < DEPTH; page++) {
          const start = performance.now();
          after = await handPage(db, k, after);
          times.push(performance.now() - start);
          if (!after) break;
        }
        return times;
      };
      for (let i = 0; i < 20; i++) {
        await walkChapkit(`k${i % KINDS}`, false);
        await walkHand(`k${i % KINDS}`);
      }
      const chapkitTimes: number[] = [];
      const handTimes: number[] = [];
      for (let i = 0; i < walks; i++) {
        // Alternate sides to spread drift.
        chapkitTimes.push(...await walkChapkit(`k${i % KINDS}`, false));
        handTimes.push(...await walkHand(`k${i % KINDS}`));
      }
      const countedTimes: number[] = [];
      const countTimes: number[] = [];
      for (let i = 0; i < Math.ceil(walks / 5); i++) {
        const start = performance.now();
        await get(`kind=k${i % KINDS}&sort=-score&limit=${LIMIT}`);
        countedTimes.push(performance.now() - start);
        const countStart = performance.now();
        await manager.repository.count({ filter: { kind: "compare", field: "kind", op: "eq", value: `k${i % KINDS}` } });
        countTimes.push(performance.now() - countStart);
      }
      const label = `filter kind + sort -score + cursor, ${DEPTH} pages of ${LIMIT}, ${total.toLocaleString("en")} rows`;
      const p50 = percentile(chapkitTimes, 50);
      const p99 = percentile(chapkitTimes, 99);
      context.log(`${kind}: page p50 ${round(p50, 3)} ms, p99 ${round(p99, 3)} ms (hand-written SQL p50 ${round(percentile(handTimes, 50), 3)} ms); count ${round(percentile(countTimes, 50), 2)} ms`);
      rows.push(compare({ suite: "query", case: `${label}, count=false (vs hand-written SQL)`, store: kind, metric: "page p50", unit: "ms" }, p50, percentile(handTimes, 50), false));
      rows.push(compare({ suite: "query", case: `${label}, count=false (vs hand-written SQL)`, store: kind, metric: "page p99", unit: "ms" }, p99, percentile(handTimes, 99), false));
      rows.push({ suite: "query", case: `first page with total (count of ${(total / KINDS).toLocaleString("en")} rows)`, store: kind, metric: "page p50", unit: "ms", value: round(percentile(countedTimes, 50), 3) });
      rows.push({ suite: "query", case: `COUNT(*) of one kind (${(total / KINDS).toLocaleString("en")} rows)`, store: kind, metric: "count p50", unit: "ms", value: round(percentile(countTimes, 50), 3) });
      rows.push(...await bulk(db, app, manager, kind, bulkRows, context));
    } finally {
      await db.close();
      await store.drop();
    }
  }
  return rows;
}

/** $bulk-create over HTTP and Manager.createMany against the same batches as hand-written INSERTs. */
async function bulk(
  db: Driver,
  app: Elysia,
  manager: Manager<EventRecord, typeof EventIn, typeof EventOut>,
  kind: string,
  count: number,
  context: SuiteContext,
): Promise<BenchRow[]> {
  const batches = Math.ceil(count / BULK_BATCH);
  const bodies = (n: number): unknown[][] =>
    Array.from({ length: batches }, (_, b) => Array.from({ length: BULK_BATCH }, (_, i) => event(n + b * BULK_BATCH + i)));
  const tuple = `(${COLUMNS.map(() => "?").join(", ")})`;
  const hand = async (batch: unknown[]): Promise<void> => {
    const now = new Date().toISOString();
    const params: SqlValue[] = [];
    for (const body of batch as ReturnType<typeof event>[]) {
      params.push(newUlid(), now, now, body.kind, body.score, body.name, db.dialect === "sqlite" ? JSON.stringify(body.data) : ({ toJSON: () => body.data } as unknown as SqlValue));
    }
    await db.transaction((tx) => tx.exec(`INSERT INTO "bench_events" (${COLUMNS.map((c) => `"${c}"`).join(", ")}) VALUES ${batch.map(() => tuple).join(", ")}`, params));
  };
  const http = async (batch: unknown[]): Promise<void> => {
    const response = await app.handle(new Request("http://bench/events/$bulk-create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch),
    }));
    if (response.status >= 300) throw new Error(`$bulk-create: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  const timed = async (fn: (batch: unknown[]) => Promise<unknown>, data: unknown[][]): Promise<number> => {
    const start = performance.now();
    for (const batch of data) await fn(batch);
    return (count / ((performance.now() - start) / 1000));
  };
  for (const batch of bodies(5e6).slice(0, 2)) {
    await http(batch);
    await hand(batch);
  }
  const handRate = await timed(hand, bodies(6e6));
  const httpRate = await timed(http, bodies(7e6));
  const managerRate = await timed((batch) => manager.createMany(batch), bodies(8e6));
  const handRate2 = await timed(hand, bodies(9e6));
  const baseline = (handRate + handRate2) / 2;
  context.log(`${kind}: bulk create ${round(httpRate)} rows/s over HTTP, ${round(managerRate)} via createMany, hand-written ${round(baseline)}`);
  const base = { suite: "query", store: kind, metric: "throughput", unit: "rows/s" };
  return [
    compare({ ...base, case: `$bulk-create over HTTP, ${BULK_BATCH} rows a request (vs hand-written batched INSERT)` }, httpRate, baseline, true),
    compare({ ...base, case: `Manager.createMany, ${BULK_BATCH} rows a call (vs hand-written batched INSERT)` }, managerRate, baseline, true),
  ];
}

/** The query suite: filtered, sorted cursor pages over a big table, counts, and bulk create. */
export const suite: Suite = {
  name: "query",
  description: "filter + sort + cursor pages over 1M rows (100k quick), count cost, $bulk-create vs hand-written INSERT",
  run,
};
