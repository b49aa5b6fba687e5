/** `chapkit schema --format mermaid|svg`: an ER diagram of the service's tables. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { describeSchema } from "../../db/introspect.ts";
import { migrate } from "../../db/migrate.ts";
import { openDatabase } from "../../db/open.ts";
import { mermaidDiagram, svgDiagram } from "../../db/schema-diagram.ts";
import { ENTRY_OPTION, loadServiceBuilder } from "../_entry.ts";
import type { CliContext } from "../context.ts";

interface SchemaOptions {
  entry: string;
  format: "mermaid" | "svg";
  databaseUrl?: string;
  out?: string;
}

/** `chapkit schema`: the service's tables as an ER diagram (Mermaid or SVG). */
export function schemaCommand(cli: CliContext): Command {
  return new Command("schema")
    .description("Draw the service's tables as an ER diagram (Mermaid or SVG).")
    .addOption(new Option("-f, --format <format>", "diagram format").choices(["mermaid", "svg"]).default("mermaid"))
    .option(...ENTRY_OPTION)
    .option("--database-url <url>", "draw a live database instead of the tables the service declares")
    .option("-o, --out <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  chapkit schema --format svg --out schema.svg\n")
    .action(async (options: SchemaOptions) => {
      // The declared tables: every migration of the service applied to an empty in-memory database.
      const url = options.databaseUrl ?? "sqlite::memory:";
      const builder = options.databaseUrl ? undefined : await loadServiceBuilder(options.entry, cli.cwd, url);
      const db = await openDatabase(url);
      try {
        if (builder) await migrate(db, await builder.migrations());
        const tables = await describeSchema(db);
        const text = options.format === "svg" ? svgDiagram(tables) : mermaidDiagram(tables);
        if (options.out) writeFileSync(resolve(cli.cwd, options.out), text);
        else cli.output.out(text);
      } finally {
        await db.close();
      }
    });
}
