/** Builds the chapkit command line program and runs it to an exit status. */
import process from "node:process";
import { Command, CommanderError } from "commander";
import { type CliOutput, paint, processOutput } from "./_output.ts";
import { processEnvironment } from "../runtime/env.ts";
import { COMMANDS } from "./commands.ts";
import { type CliContext, CliExit } from "./context.ts";
import { CLI_VERSION } from "./version.ts";

/** Options of {@link runCli}; tests set them, the executable uses the defaults. */
export interface RunCliOptions {
  /** Where to write (default the process's stdout and stderr). */
  output?: CliOutput;
  /** Working directory (default the process's). */
  cwd?: string;
  /** Environment (default the process's). */
  env?: Record<string, string | undefined>;
}

/** The program with every command registered; its actions write through `cli`. */
export function createProgram(cli: CliContext): Command {
  const program = new Command("chapkit")
    .description("Create, run, test and inspect chapkit services.")
    .version(CLI_VERSION, "-v, --version", "print the chapkit version")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ writeOut: cli.output.out, writeErr: cli.output.err })
    .exitOverride();
  for (const factory of COMMANDS) {
    const command = factory(cli);
    command.configureOutput({ writeOut: cli.output.out, writeErr: cli.output.err });
    command.showHelpAfterError("(add --help for usage)");
    program.addCommand(command);
  }
  return program;
}

/**
 * Runs the chapkit command with `argv` (the arguments after the executable,
 * e.g. `["test", "--url", "http://127.0.0.1:8000"]`) and resolves to its exit
 * status: 0 on success, 1 when the work failed, 2 on a usage error. It never
 * calls `process.exit`, so it can be embedded and tested in-process.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const output = options.output ?? processOutput();
  const cli: CliContext = { output, cwd: options.cwd ?? process.cwd(), env: options.env ?? processEnvironment() };
  const program = createProgram(cli);
  // exitOverride must reach every subcommand, or commander exits the process itself.
  const override = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) override(sub);
  };
  override(program);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliExit) {
      if (error.message) output.err(`${error.message}\n`);
      return error.code;
    }
    output.err(`${paint(output, "red", "error:")} ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
