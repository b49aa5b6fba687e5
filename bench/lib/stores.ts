import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

/** A throw-away store for one server run. */
export interface BenchStore {
  /** `bun:sqlite` or `postgres`. */
  kind: string;
  /** What the server gets as DATABASE_URL. */
  url: string;
  /** Deletes the file or drops the database. */
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh SQLite file in a temporary folder. */
export function sqliteStore(): BenchStore {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-bench-"));
  return {
    kind: "bun:sqlite",
    url: `sqlite:${join(dir, "bench.db")}`,
    drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** A fresh PostgreSQL database next to `adminUrl`'s, dropped afterwards. */
export async function postgresStore(adminUrl: string): Promise<BenchStore> {
  const name = `chapkit_bench_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: "postgres",
    url: url.toString(),
    drop: async () => {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

/** The stores a suite runs on: a SQLite file, and PostgreSQL when it is reachable. */
export function storeFactories(postgresUrl: string | undefined): { kind: string; open(): Promise<BenchStore> }[] {
  const out = [{ kind: "bun:sqlite", open: () => Promise.resolve(sqliteStore()) }];
  if (postgresUrl) out.push({ kind: "postgres", open: () => postgresStore(postgresUrl) });
  return out;
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
