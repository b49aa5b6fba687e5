// Runs one model script for the shell runners: placeholders filled, the one subprocess helper, logs.
import type { Logger } from "../../../core/logging.ts";
import { type CommandResult, runCommand, scriptEnvironment } from "../../../runtime/subprocess.ts";
import { pyFormat } from "./py-format.ts";

/** How a runner runs its scripts. */
export interface ScriptOptions {
  /** Extra environment variables (the scripts see the service's environment minus secrets). */
  env?: Record<string, string> | undefined;
  /** Bytes of stdout and of stderr kept. */
  maxOutputBytes?: number | undefined;
  /** Where the command and its output are logged (debug level). */
  logger?: Logger | undefined;
}

/**
 * Fills `template`'s placeholders from `files` (Python `str.format` rules),
 * runs it in `cwd` and returns how it ended; a cancelled job rejects with the
 * signal's reason.
 */
export async function runScript(
  operation: string,
  template: string,
  files: Record<string, string>,
  context: { cwd: string; signal: AbortSignal },
  options: ScriptOptions,
): Promise<CommandResult> {
  const command = pyFormat(template, files);
  const { cwd, signal } = context;
  options.logger?.debug("ml.shell.start", { operation, command });
  signal.throwIfAborted();
  const result = await runCommand(command, {
    cwd,
    signal,
    env: scriptEnvironment(options.env),
    ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
  });
  if (result.aborted) throw signal.reason;
  options.logger?.debug("ml.shell.end", { operation, code: result.exitCode, stdout: result.stdout, stderr: result.stderr });
  return result;
}
