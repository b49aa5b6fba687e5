import { ident } from "./dialect.ts";
import type { Driver } from "./driver.ts";
import type { Migration } from "./migration.ts";

/** How a table is split by time (PostgreSQL range partitions) and how long its rows are kept. */
export interface PartitionPolicy {
  /** The timestamp column rows are split by (default `created_at`); it joins the primary key. */
  column?: string;
  /** One partition per `day`, `week` (from Monday) or `month` (default `month`), in UTC. */
  interval?: "day" | "week" | "month";
  /** Partitions created ahead of the current one (default 3), so inserts never wait for one. */
  ahead?: number;
  /**
   * Intervals kept before the current one; older partitions are dropped
   * whole (and older rows deleted on SQLite). Absent: rows are kept.
   */
  retention?: number;
}

type Interval = NonNullable<PartitionPolicy["interval"]>;

/** The start (UTC) of the interval holding `at`, moved `offset` intervals. */
export function intervalStart(at: Date, interval: Interval, offset = 0): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  if (interval === "day") return new Date(day.getTime() + offset * 86_400_000);
  if (interval === "week") {
    const monday = day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000;
    return new Date(monday + offset * 7 * 86_400_000);
  }
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + offset, 1));
}

function stamp(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, "");
}

/** The partition of `table` starting at `start`: `<table>_p<yyyymmdd>`. */
export function partitionName(table: string, start: Date): string {
  return `${table}_p${stamp(start)}`;
}

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * The migration that turns an existing table into one range-partitioned by
 * `policy.column` on PostgreSQL (nothing on SQLite): the table is rebuilt
 * with the same columns, defaults, checks and generated columns, its primary
 * key becomes `(id, column)`, a default partition takes rows no partition
 * covers, the rows are copied and its non-unique indexes rebuilt on the new
 * table (PostgreSQL gives every partition its own). A table that is already
 * partitioned is left alone. Unique indexes other than the key cannot hold
 * on a partitioned table (they would have to include the time column) and
 * are dropped, as are foreign keys.
 */
export function partitionMigration(table: string, policy: PartitionPolicy, module: string, version: number): Migration {
  const column = policy.column ?? "created_at";
  const old = `${table}_unpartitioned`;
  // One statement (a DO block on one line): the migration runner splits scripts at `;` ending a line.
  const body = [
    "DECLARE cols text; defs text[]; def text;",
    "BEGIN",
    `IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(${literal(ident(table))})) THEN RETURN; END IF;`,
    `SELECT array_agg(indexdef) INTO defs FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ${literal(table)} AND indexdef NOT LIKE 'CREATE UNIQUE%';`,
    `EXECUTE ${literal(`ALTER TABLE ${ident(table)} RENAME TO ${ident(old)}`)};`,
    `EXECUTE ${literal(`ALTER INDEX IF EXISTS ${ident(`${table}_pkey`)} RENAME TO ${ident(`${old}_pkey`)}`)};`,
    `EXECUTE ${literal(`CREATE TABLE ${ident(table)} (LIKE ${ident(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED) PARTITION BY RANGE (${ident(column)})`)};`,
    `EXECUTE ${literal(`ALTER TABLE ${ident(table)} ADD PRIMARY KEY ("id", ${ident(column)})`)};`,
    `EXECUTE ${literal(`CREATE TABLE ${ident(`${table}_default`)} PARTITION OF ${ident(table)} DEFAULT`)};`,
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute WHERE attrelid = to_regclass(${literal(ident(old))}) AND attnum > 0 AND NOT attisdropped AND attgenerated = '';`,
    `EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM %I', ${literal(table)}, cols, cols, ${literal(old)});`,
    `EXECUTE ${literal(`DROP TABLE ${ident(old)}`)};`,
    "IF defs IS NOT NULL THEN FOREACH def IN ARRAY defs LOOP EXECUTE def; END LOOP; END IF;",
    "END",
  ].join(" ");
  return {
    module,
    version,
    name: `partition ${table} by ${column}`,
    up: { sqlite: "SELECT 1", postgres: `DO $partition$ ${body} $partition$` },
    down: { sqlite: "SELECT 1", postgres: "SELECT 1" },
    // The rows are copied, never lost; marked so the rebuild is applied unattended.
    destructive: true,
  };
}

/** What one maintenance pass did. */
export interface PartitionReport {
  /** Partitions created. */
  created: string[];
  /** Partitions dropped by retention. */
  dropped: string[];
  /** Rows deleted by retention outside partitions (the default partition, or the table on SQLite). */
  deleted: number;
}

/**
 * The partitions of the tables that opt in: {@link maintain} creates those
 * of the current interval and `ahead` intervals on, and drops those past
 * retention. Run it at start-up and periodically; several instances may run
 * it at once.
 */
export class Partitions {
  readonly #tables = new Map<string, Required<Omit<PartitionPolicy, "retention">> & Pick<PartitionPolicy, "retention">>();

  /** Adds a table (partitioned by {@link partitionMigration}) with its policy. */
  add(table: string, policy: PartitionPolicy = {}): void {
    this.#tables.set(table, { column: "created_at", interval: "month", ahead: 3, ...policy });
  }

  /** The tables with their policies. */
  get tables(): ReadonlyMap<string, PartitionPolicy> {
    return this.#tables;
  }

  /** Creates the partitions due and drops those past retention, for every table, as of `now`. */
  async maintain(db: Driver, now: Date = new Date()): Promise<PartitionReport> {
    const report: PartitionReport = { created: [], dropped: [], deleted: 0 };
    for (const [table, policy] of this.#tables) {
      const cutoff = policy.retention === undefined ? null : intervalStart(now, policy.interval, -policy.retention);
      if (db.dialect === "sqlite") {
        if (cutoff) report.deleted += (await db.exec(`DELETE FROM ${ident(table)} WHERE ${ident(policy.column)} < ?`, [cutoff.toISOString()])).changes;
        continue;
      }
      const existing = new Set(await this.#partitionsOf(db, table));
      for (let offset = 0; offset <= policy.ahead; offset++) {
        const start = intervalStart(now, policy.interval, offset);
        const name = partitionName(table, start);
        if (existing.has(name)) continue;
        const end = intervalStart(start, policy.interval, 1);
        // Rows already in the default partition for this range would make the new partition fail.
        const [stray] = await db.query(
          `SELECT 1 AS found FROM ${ident(`${table}_default`)} WHERE ${ident(policy.column)} >= ? AND ${ident(policy.column)} < ? LIMIT 1`,
          [start.toISOString(), end.toISOString()],
        );
        if (stray) continue;
        try {
          await db.exec(
            `CREATE TABLE IF NOT EXISTS ${ident(name)} PARTITION OF ${ident(table)} FOR VALUES FROM (${literal(start.toISOString())}) TO (${literal(end.toISOString())})`,
          );
          report.created.push(name);
        } catch (error) {
          // Another instance created it (or a default row arrived) meanwhile: the next pass sees it.
          if (!(await this.#partitionsOf(db, table)).includes(name)) throw error;
        }
      }
      if (cutoff) {
        for (const name of existing) {
          const start = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
          if (!start) continue;
          const begins = new Date(Date.UTC(Number(start[1]), Number(start[2]) - 1, Number(start[3])));
          if (intervalStart(begins, policy.interval, 1) <= cutoff) {
            await db.exec(`DROP TABLE IF EXISTS ${ident(name)}`);
            report.dropped.push(name);
          }
        }
        report.deleted += (await db.exec(`DELETE FROM ${ident(`${table}_default`)} WHERE ${ident(policy.column)} < ?`, [cutoff.toISOString()])).changes;
      }
    }
    return report;
  }

  async #partitionsOf(db: Driver, table: string): Promise<string[]> {
    const rows = await db.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(?) AND c.relname <> ?",
      [ident(table), `${table}_default`],
    );
    return rows.map((row) => row.name);
  }
}

/** The service-context key of the service's {@link Partitions}. */
export const PARTITIONS_KEY = "chapkit.db.partitions";
