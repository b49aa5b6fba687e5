/** Loads the service a project defines, for commands that need its tables and migrations. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BaseServiceBuilder } from "../service/base-service-builder.ts";
import { CliExit } from "./context.ts";

/** Adds `--entry` to a command. */
export const ENTRY_OPTION = ["-e, --entry <file>", "the module that exports createService() (or a builder as `service`)", "main.ts"] as const;

interface EntryModule {
  createService?: (databaseUrl?: string) => BaseServiceBuilder | Promise<BaseServiceBuilder>;
  service?: BaseServiceBuilder;
}

/**
 * Imports `entry` (relative to `cwd`) and returns its service builder, not
 * built: `createService(databaseUrl)` when exported (the templates' shape),
 * else an exported builder named `service`. `import.meta.main` is false there,
 * so the entry does not start listening.
 *
 * @throws {CliExit} when the file is missing or exports neither.
 */
export async function loadServiceBuilder(entry: string, cwd: string, databaseUrl?: string): Promise<BaseServiceBuilder> {
  const path = resolve(cwd, entry);
  if (!existsSync(path)) throw new CliExit(2, `${path} does not exist (choose the service module with --entry)`);
  const module = await import(pathToFileURL(path).href) as EntryModule;
  if (typeof module.createService === "function") return await module.createService(databaseUrl);
  if (module.service && typeof module.service.migrations === "function") return module.service;
  throw new CliExit(2, `${entry} exports neither createService() nor a builder named service`);
}
