/**
 * The `chapkit` command: scaffold, run, test and inspect chapkit services.
 *
 * Run it with `npx chapkit --help`, `bunx chapkit --help` or
 * `deno run -A jsr:@chapkit/core/cli --help`. Embedding it (a wrapper
 * executable, a test) goes through {@link runCli}, which resolves to the exit
 * status instead of exiting the process.
 *
 * @example
 * ```ts ignore
 * import { runCli } from "@chapkit/core/cli";
 * const status = await runCli(["test", "--url", "http://127.0.0.1:8000"]);
 * ```
 *
 * @module
 */
import process from "node:process";
import { runCli } from "./program.ts";

export { runCli } from "./program.ts";
export type { RunCliOptions } from "./program.ts";
export { CliExit } from "./context.ts";
export type { CliCommandFactory, CliContext } from "./context.ts";
export type { CliOutput } from "./_output.ts";
export { runConformance } from "./conformance/run.ts";
export type { ConformanceOptions, ConformanceReport, CheckOutcome } from "./conformance/run.ts";
export type { ConformanceCheck, ConformanceProfile } from "./conformance/check.ts";

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
