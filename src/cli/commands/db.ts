/**
 * `chapkit db migrate|rollback|status|preview`: the service's schema migrations against DATABASE_URL;
 * `chapkit db advise`: index advice from a running service's slow-query log.
 */
import { Command } from "commander";
import type { Driver } from "../../db/driver.ts";
import { isDestructive, lockHolders, migrate, migrateDown, MIGRATIONS_TABLE, splitStatements } from "../../db/migrate.ts";
import { destructiveReason } from "../../db/migration-safety.ts";
import type { Migration } from "../../db/migration.ts";
import { openDatabase } from "../../db/open.ts";
import { paint, withSpinner } from "../_output.ts";
import { type ServiceOptions, serviceFetch, serviceOptions } from "../_http.ts";
import type { IndexAdvice } from "../../db/index-advice.ts";
import { ENTRY_OPTION, loadServiceBuilder } from "../_entry.ts";
import { type CliContext, CliExit } from "../context.ts";

interface DbOptions {
  entry: string;
  databaseUrl?: string;
}

interface AppliedRow extends Record<string, unknown> {
  module: string;
  version: number;
  name: string;
  applied_at: string;
}

/** Whether a statement drops, truncates, deletes or retypes data (the one definition `migrate` refuses unmarked). */
export { isDestructive };

function label(m: { module: string; version: number }): string {
  return `${m.module}#${m.version}`;
}

async function appliedRows(db: Driver): Promise<AppliedRow[]> {
  try {
    const rows = await db.query<AppliedRow>(`SELECT module, version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY applied_at, module, version`);
    return rows.map((row) => ({ ...row, version: Number(row.version), applied_at: String(row.applied_at) }));
  } catch {
    return []; // no history table yet: nothing applied
  }
}

/** Opens the database and loads the migrations; runs `work`, then closes. */
async function withDatabase<T>(
  cli: CliContext,
  options: DbOptions,
  work: (db: Driver, migrations: Migration[]) => Promise<T>,
): Promise<T> {
  const url = options.databaseUrl ?? cli.env.DATABASE_URL;
  if (!url) throw new CliExit(2, "set DATABASE_URL (or pass --database-url) to the database to migrate");
  const builder = await loadServiceBuilder(options.entry, cli.cwd, url);
  const migrations = await builder.migrations();
  const db = await openDatabase(url);
  try {
    return await work(db, migrations);
  } finally {
    await db.close();
  }
}

function pendingOf(migrations: Migration[], applied: AppliedRow[]): Migration[] {
  const done = new Set(applied.map(label));
  return migrations.filter((m) => !done.has(label(m)));
}

function sqlOf(migration: Migration, direction: "up" | "down", dialect: Driver["dialect"]): string {
  const sql = migration[direction];
  if (sql === undefined) return "";
  return typeof sql === "string" ? sql : sql[dialect];
}

function withDbOptions(command: Command): Command {
  return command
    .option(...ENTRY_OPTION)
    .option("--database-url <url>", "the database (default: DATABASE_URL)");
}

/** The `db` command and its subcommands. */
export function dbCommand(cli: CliContext): Command {
  const { output } = cli;
  const db = new Command("db").description("Apply, inspect and revert the service's schema migrations (DATABASE_URL).");

  db.addCommand(withDbOptions(new Command("status").description("List every migration as applied or pending.")).action(
    (options: DbOptions) =>
      withDatabase(cli, options, async (driver, migrations) => {
        const applied = await appliedRows(driver);
        const at = new Map(applied.map((row) => [label(row), row.applied_at]));
        for (const m of migrations) {
          const when = at.get(label(m));
          output.out(`${when ? paint(output, "green", "applied") : paint(output, "yellow", "pending")}  ${label(m).padEnd(28)} ${m.name}${when ? paint(output, "dim", `  ${when}`) : ""}\n`);
        }
        const declared = new Set(migrations.map(label));
        for (const row of applied.filter((r) => !declared.has(label(r)))) {
          output.out(`${paint(output, "red", "unknown")}  ${label(row).padEnd(28)} ${row.name}  (applied, not declared by the service)\n`);
        }
        output.err(`${applied.length} applied, ${pendingOf(migrations, applied).length} pending\n`);
        for (const holder of await lockHolders(driver, "migration")) output.err(`migration lock held by ${holder}\n`);
      }),
  ));

  db.addCommand(withDbOptions(new Command("migrate").description("Apply the pending migrations in one transaction.")).action(
    (options: DbOptions) =>
      withDatabase(cli, options, async (driver, migrations) => {
        const report = await withSpinner(output, "applying migrations", () => migrate(driver, migrations));
        for (const applied of report.applied) output.out(`applied ${applied}\n`);
        if (report.applied.length === 0) output.out("nothing to apply: the database is up to date\n");
      }),
  ));

  db.addCommand(
    withDbOptions(new Command("rollback").description("Revert the last N applied migrations (default 1), newest first."))
      .argument("[n]", "how many", "1")
      .action((n: string, options: DbOptions) =>
        withDatabase(cli, options, async (driver, migrations) => {
          const count = Number(n);
          if (!Number.isInteger(count) || count < 1) throw new CliExit(2, `N must be a positive integer, got "${n}"`);
          // Newest first: by time applied, then (same transaction) by the order the service declares them.
          const order = new Map(migrations.map((m, i) => [label(m), i]));
          const rank = (row: AppliedRow): number => order.get(label(row)) ?? -1;
          const latest = (await appliedRows(driver))
            .sort((a, b) => a.applied_at === b.applied_at ? rank(b) - rank(a) : b.applied_at.localeCompare(a.applied_at))
            .slice(0, count);
          if (latest.length === 0) return void output.out("nothing to revert\n");
          for (const row of latest) {
            const report = await migrateDown(driver, migrations, { module: row.module, toVersion: row.version - 1 });
            for (const reverted of report.applied) output.out(`reverted ${reverted}\n`);
          }
        })
      ),
  );

  db.addCommand(
    withDbOptions(new Command("preview").description("Print the SQL of the pending migrations; mark the statements that would lose data or fail on the rows held now.")).action(
      (options: DbOptions) =>
        withDatabase(cli, options, async (driver, migrations) => {
          const pending = pendingOf(migrations, await appliedRows(driver));
          let destructive = 0;
          for (const m of pending) {
            output.out(`-- ${label(m)}: ${m.name}\n`);
            for (const statement of splitStatements(sqlOf(m, "up", driver.dialect))) {
              const reason = await destructiveReason(driver, statement);
              if (reason) {
                destructive++;
                output.out(`-- ${paint(output, "red", "DESTRUCTIVE")}: ${reason}${m.destructive ? " (marked destructive: applied)" : " (refused unless the migration is marked destructive)"}\n`);
              }
              output.out(`${statement};\n`);
            }
            output.out("\n");
          }
          output.err(`${pending.length} pending migration(s), ${destructive} destructive statement(s)\n`);
        }),
    ),
  );
  db.addCommand(adviseCommand(cli));
  return db;
}

interface AdviseOptions extends ServiceOptions {
  minSeen: string;
  json?: boolean;
  apply?: boolean;
  databaseUrl?: string;
}

/** `chapkit db advise`: the running service's index advice; `--apply` creates the indexes on DATABASE_URL. */
function adviseCommand(cli: CliContext): Command {
  const { output } = cli;
  return serviceOptions(new Command("advise"))
    .description("Index advice from a running service's slow-query log (withMonitoring() and withSystem()): the columns slow statements filter or sort on that lead no index, with the CREATE INDEX to add.")
    .option("--min-seen <n>", "advise only columns seen at least this many times", "1")
    .option("--json", "print the advice as JSON")
    .option("--apply", "run the CREATE INDEX statements against the database (DATABASE_URL or --database-url)")
    .option("--database-url <url>", "the database --apply changes (default: DATABASE_URL)")
    .action(async (options: AdviseOptions) => {
      const minSeen = Number(options.minSeen);
      if (!Number.isInteger(minSeen) || minSeen < 1) throw new CliExit(2, `--min-seen must be a positive integer, got "${options.minSeen}"`);
      const url = options.databaseUrl ?? cli.env.DATABASE_URL;
      if (options.apply && !url) throw new CliExit(2, "--apply needs the database: set DATABASE_URL or pass --database-url");
      const response = await serviceFetch(options, "/api/v1/system/$index-advice");
      const advice = ((await response.json()) as { items: IndexAdvice[] }).items.filter((item) => item.seen >= minSeen);
      if (options.json) output.out(`${JSON.stringify(advice, null, 2)}\n`);
      else {
        for (const item of advice) output.out(`-- ${item.table}.${item.column}: ${item.use} in ${item.seen} slow statement(s)\n${item.create};\n`);
      }
      output.err(`${advice.length} index(es) advised\n`);
      if (!options.apply || advice.length === 0) return;
      const driver = await openDatabase(url!);
      try {
        for (const item of advice) {
          await driver.exec(item.create);
          output.err(`created ${item.create}\n`);
        }
      } finally {
        await driver.close();
      }
    });
}
