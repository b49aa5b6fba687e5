/**
 * The commands of the chapkit executable, in the order `chapkit --help` lists
 * them. A new command is a file in `commands/` exporting a {@link CliCommandFactory}
 * and one line here.
 */
import type { CliCommandFactory } from "./context.ts";
import { artifactCommand } from "./commands/artifact.ts";
import { backupCommand, restoreCommand } from "./commands/backup.ts";
import { clientCommand } from "./commands/client.ts";
import { initCommand } from "./commands/init.ts";
import { configCommand } from "./commands/config.ts";
import { dbCommand } from "./commands/db.ts";
import { generateCommand } from "./commands/generate.ts";
import { devCommand } from "./commands/dev.ts";
import { openapiCommand } from "./commands/openapi.ts";
import { schemaCommand } from "./commands/schema.ts";
import { testCommand } from "./commands/test.ts";

/** Every command, in help order. */
export const COMMANDS: readonly CliCommandFactory[] = [
  initCommand,
  devCommand,
  generateCommand,
  testCommand,
  configCommand,
  openapiCommand,
  artifactCommand,
  dbCommand,
  backupCommand,
  restoreCommand,
  schemaCommand,
  clientCommand,
];
