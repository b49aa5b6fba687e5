/**
 * The sandbox (playground) mode: with `CHAPKIT_SANDBOX=1` the service runs
 * on an in-memory store (the configured database is never touched), its
 * seed hooks fill it at start, and every `sandbox.resetSeconds` every table
 * is emptied and seeded again, so `/docs` can be an open playground.
 */
import type { Driver } from "../db/driver.ts";
import { MIGRATIONS_TABLE } from "../db/migrate.ts";
import type { ServiceContext, ServiceModule } from "../http/module.ts";
import { unrefTimer } from "../core/timers.ts";

/** Fills a sandbox store with example data (through managers, as a client would). */
export type SandboxSeed = (context: ServiceContext) => void | Promise<void>;

/** The context key of the running {@link Sandbox}. */
export const SANDBOX_KEY = "service:sandbox";

/** The store every sandbox uses. */
export const SANDBOX_DATABASE_URL = "sqlite::memory:";

// Kept across resets: the schema's history and the secrets that sign cursors and tokens.
const KEPT = new Set([MIGRATIONS_TABLE, "chapkit_secrets"]);

/** A running sandbox: its next reset and a way to reset now. */
export interface Sandbox {
  /** When the next scheduled reset runs (ISO 8601). */
  readonly nextResetAt: string;
  /** Empties every table and runs the seeds again. */
  reset(): Promise<void>;
}

async function emptyTables(db: Driver): Promise<void> {
  const rows = await db.query<{ name: string; sql: string | null }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  // Full-text indexes (virtual tables and their shadow tables) follow their tables through triggers.
  const virtual = rows.filter((row) => /^CREATE VIRTUAL TABLE/i.test(row.sql ?? "")).map((row) => row.name);
  const tables = rows.map((row) => row.name)
    .filter((name) => !KEPT.has(name) && !virtual.some((index) => name === index || name.startsWith(`${index}_`)));
  await db.exec("PRAGMA foreign_keys = OFF");
  try {
    for (const table of tables) await db.exec(`DELETE FROM "${table.replaceAll('"', '""')}"`);
  } finally {
    await db.exec("PRAGMA foreign_keys = ON");
  }
}

/**
 * The sandbox module, installed by the builder when `sandbox.enabled` is
 * set: seeds at start, resets on its schedule, and provides the
 * {@link Sandbox} under {@link SANDBOX_KEY}.
 */
export function sandboxModule(seeds: readonly SandboxSeed[]): ServiceModule {
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    name: "sandbox",
    async start(context: ServiceContext): Promise<void> {
      const periodMs = context.settings.sandbox.resetSeconds * 1000;
      let next = Date.now() + periodMs;
      const seed = async (): Promise<void> => {
        for (const run of seeds) await run(context);
      };
      let running: Promise<void> = Promise.resolve();
      const sandbox: Sandbox = {
        get nextResetAt() {
          return new Date(next).toISOString();
        },
        reset(): Promise<void> {
          running = running.then(async () => {
            await emptyTables(context.db);
            await seed();
            context.logger.info("sandbox.reset", { next_reset_at: new Date(next).toISOString() });
          });
          return running;
        },
      };
      context.provide(SANDBOX_KEY, sandbox);
      await seed();
      timer = setInterval(() => {
        next = Date.now() + periodMs;
        sandbox.reset().catch((error: unknown) => context.logger.error("sandbox.reset_failed", { error }));
      }, periodMs);
      unrefTimer(timer);
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
