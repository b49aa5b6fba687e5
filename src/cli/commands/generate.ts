/**
 * `chapkit generate entity NAME field:type…`: code for a new entity, from field specs or a JSON Schema.
 * `chapkit generate migration NAME`: the SQL from the live schema to the declared one.
 * `chapkit generate module NAME`: a module folder in the shape of the built-in ones.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command } from "commander";
import { openDatabase } from "../../db/open.ts";
import { ENTRY_OPTION, loadServiceBuilder } from "../_entry.ts";
import { paint } from "../_output.ts";
import { type CliContext, CliExit } from "../context.ts";
import {
  entitySource,
  entityTestSource,
  FIELD_TYPES,
  fieldsFromJsonSchema,
  parseFieldSpec,
  pascalName,
  tableName,
} from "../generate/entity.ts";
import { moduleSources } from "../generate/module.ts";
import { migrationFileSource, type MigrationStatement, migrationStatements } from "../generate/migration.ts";

/** Writes `files` into `dir`, refusing to overwrite any of them unless `force`; names each file written. */
function writeFiles(cli: CliContext, dir: string, files: Record<string, string>, force: boolean): void {
  for (const file of Object.keys(files)) {
    if (existsSync(join(dir, file)) && !force) throw new CliExit(2, `${join(dir, file)} exists (use --force to overwrite)`);
  }
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    writeFileSync(join(dir, file), text);
    cli.output.out(`${paint(cli.output, "green", "wrote")} ${relative(cli.cwd, join(dir, file))}\n`);
  }
}

interface EntityOptions {
  from?: string;
  table?: string;
  dir: string;
  force?: boolean;
}

function entityCommand(cli: CliContext): Command {
  return new Command("entity")
    .description("Write entities/<table>.ts (defineEntity) and its test; serve it with builder.withEntity().")
    .argument("<name>", "the singular noun, e.g. note or lab_result")
    .argument("[fields...]", `fields as name:type[?][:unique]; types: ${FIELD_TYPES.join(", ")}`)
    .option("--from <schema.json>", "take the fields from a JSON Schema object instead")
    .option("--table <table>", "table name (default: the plural of NAME)")
    .option("-d, --dir <dir>", "where to write", "entities")
    .option("--force", "overwrite existing files")
    .addHelpText("after", "\nExample:\n  chapkit generate entity note title:string:unique body:text? stars:int?\n")
    .action((name: string, specs: string[], options: EntityOptions) => {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new CliExit(2, `entity name "${name}" must start with a letter`);
      const fields = options.from
        ? fieldsFromJsonSchema(JSON.parse(readFileSync(resolve(cli.cwd, options.from), "utf8")) as Record<string, unknown>)
        : specs.map(parseFieldSpec);
      if (fields.length === 0) throw new CliExit(2, "give at least one field (name:type) or --from schema.json");
      const table = options.table ?? tableName(name);
      const dir = resolve(cli.cwd, options.dir);
      const files = { [`${table}.ts`]: entitySource(name, table, fields), [`${table}.test.ts`]: entityTestSource(name, table, fields) };
      writeFiles(cli, dir, files, options.force === true);
      cli.output.out(`\nServe it: import { ${pascalName(name)} } from "./${relative(cli.cwd, join(dir, `${table}.ts`))}"; then builder.withEntity(${pascalName(name)})\n`);
    });
}

interface MigrationOptions {
  entry: string;
  databaseUrl?: string;
  dir: string;
  preview?: boolean;
  allowDestructive?: boolean;
}

function migrationCommand(cli: CliContext): Command {
  return new Command("migration")
    .description("Write migrations/<stamp>_<name>.sql: the SQL that brings the live schema (DATABASE_URL) to the service's declared tables.")
    .argument("<name>", "what the migration does, e.g. add_notes_stars")
    .option(...ENTRY_OPTION)
    .option("--database-url <url>", "the live database (default: DATABASE_URL)")
    .option("-d, --dir <dir>", "where to write", "migrations")
    .option("--preview", "print the SQL and the destructive flags; write nothing")
    .option("--allow-destructive", "write dropped columns, indexes and tables as live statements, not commented out")
    .action(async (name: string, options: MigrationOptions) => {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new CliExit(2, `migration name "${name}" must start with a letter (letters, digits, _)`);
      const url = options.databaseUrl ?? cli.env.DATABASE_URL;
      if (!url) throw new CliExit(2, "set DATABASE_URL (or pass --database-url) to the live database to compare with");
      const migrations = await (await loadServiceBuilder(options.entry, cli.cwd, url)).migrations();
      const db = await openDatabase(url);
      let statements: MigrationStatement[];
      try {
        statements = await migrationStatements(db, url, migrations);
      } finally {
        await db.close();
      }
      const destructive = statements.filter((s) => s.destructive).length;
      if (statements.length === 0) return void cli.output.out("nothing to do: the live schema matches the declared one\n");
      const text = migrationFileSource(name, statements, options.allowDestructive === true);
      if (options.preview) {
        cli.output.out(text);
      } else {
        const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
        const dir = resolve(cli.cwd, options.dir);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${stamp}_${name}.sql`);
        writeFileSync(file, text);
        cli.output.out(`${paint(cli.output, "green", "wrote")} ${relative(cli.cwd, file)}\n`);
      }
      cli.output.err(`${statements.length} statement(s), ${destructive} destructive${destructive && !options.allowDestructive ? " (commented out)" : ""}\n`);
    });
}

function moduleCommand(cli: CliContext): Command {
  return new Command("module")
    .description("Write modules/<name>/: schema, store, manager, routes, mod (the ServiceModule) and a test; serve it with builder.module().")
    .argument("<name>", "the module and its singular noun, e.g. inventory_item")
    .option("-d, --dir <dir>", "the parent folder", "modules")
    .option("--force", "overwrite existing files")
    .action((name: string, options: { dir: string; force?: boolean }) => {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new CliExit(2, `module name "${name}" must be lower case: a letter, then letters, digits or _`);
      const dir = resolve(cli.cwd, options.dir, name);
      const files = moduleSources(name);
      writeFiles(cli, dir, files, options.force === true);
      cli.output.out(`\nServe it: import { ${pascalName(name).charAt(0).toLowerCase() + pascalName(name).slice(1)}Module } from "./${relative(cli.cwd, join(dir, "mod.ts"))}"; then builder.module(…Module())\n`);
    });
}

/** The `generate` command and its subcommands. */
export function generateCommand(cli: CliContext): Command {
  return new Command("generate").description("Generate code: entities, modules, migrations.")
    .addCommand(entityCommand(cli))
    .addCommand(moduleCommand(cli))
    .addCommand(migrationCommand(cli));
}
