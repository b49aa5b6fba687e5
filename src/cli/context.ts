/** What every command of the chapkit command receives, and how it reports failure. */
import type { Command } from "commander";
import type { CliOutput } from "./_output.ts";

/** The environment a command runs in; tests pass their own output and directory. */
export interface CliContext {
  /** Where the command writes. */
  readonly output: CliOutput;
  /** The directory relative paths are resolved against. */
  readonly cwd: string;
  /** Environment variables (`DATABASE_URL`, `PORT`, ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A command of the chapkit executable: a function that builds its commander
 * `Command` (name, options, `--help` text, action). Adding a command is one file
 * exporting such a function plus its line in `commands.ts`.
 */
export type CliCommandFactory = (cli: CliContext) => Command;

/**
 * Ends a command with an exit status. Thrown by an action after it printed its
 * own report (e.g. `chapkit test` with a failing check); the message, if any, is
 * printed to stderr.
 */
export class CliExit extends Error {
  /** The process exit status: 1 for a failed run, 2 for a usage error. */
  readonly code: number;
  constructor(code: number, message = "") {
    super(message);
    this.name = "CliExit";
    this.code = code;
  }
}
