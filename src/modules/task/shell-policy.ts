import { ForbiddenError } from "../../core/errors.ts";

/** What a service allows of shell tasks, when it enables them. */
export interface ShellTaskOptions {
  /**
   * The only commands a shell task may hold: a string matches a command
   * exactly, a RegExp must match the whole command. Absent: any command.
   */
  commands?: (string | RegExp)[];
  /** Variables a shell task sees besides `PATH`, `HOME` and `LANG` (nothing else of the service's environment). */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept in the result artifact (default 1 MiB each). */
  maxOutputBytes?: number;
}

/** `withTasks({ shell })`: false or absent keeps shell tasks off, true allows any command. */
export type ShellSetting = boolean | ShellTaskOptions;

/** How to turn shell tasks on, named in every refusal. */
export const ENABLE_SHELL_HINT =
  "Enable them when building the service with withTasks({ shell: true }), or allow listed commands with withTasks({ shell: { commands: [...] } }).";

/**
 * Whether and which shell tasks a service runs. Shell tasks run any command
 * the service's user may run, so they are off unless the builder turns them on.
 */
export class ShellPolicy {
  /** The options in force, or null when shell tasks are off. */
  readonly options: ShellTaskOptions | null;

  /** Reads the builder's setting. */
  constructor(setting: ShellSetting = false) {
    this.options = setting === false ? null : setting === true ? {} : setting;
  }

  /** True when shell tasks may run at all. */
  get enabled(): boolean {
    return this.options !== null;
  }

  /** @throws {ForbiddenError} when shell tasks are off, or the command is not on the allowlist. */
  check(command: string): void {
    if (!this.options) throw new ForbiddenError(`Shell tasks are disabled in this service. ${ENABLE_SHELL_HINT}`);
    const allowed = this.options.commands;
    if (!allowed) return;
    const listed = allowed.some((entry) => typeof entry === "string" ? entry === command : wholeMatch(entry, command));
    if (!listed) {
      throw new ForbiddenError(
        "This shell command is not on the service's allowlist of shell task commands (withTasks({ shell: { commands } })).",
      );
    }
  }
}

function wholeMatch(pattern: RegExp, text: string): boolean {
  const match = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")).exec(text);
  return match !== null && match.index === 0 && match[0].length === text.length;
}
