// The one subprocess helper of chapkit: shell tasks and ML shell runners both run through it.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";
import { processEnvironment } from "./env.ts";

/** Default cap of captured stdout and of stderr: 1 MiB each. */
export const DEFAULT_OUTPUT_LIMIT: number = 1024 * 1024;

/** Options of {@link runCommand}. */
export interface CommandOptions {
  /** The complete environment of the command: nothing of the service's is passed unless it is here. */
  env: Record<string, string>;
  /** Working directory (default: the server's). */
  cwd?: string;
  /** Aborting it terminates the command's process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Milliseconds before the process group is killed (SIGKILL); null or absent: no limit. */
  timeoutMs?: number | null;
  /** Milliseconds between SIGTERM and SIGKILL after an abort (default 2 000). */
  killGraceMs?: number;
  /** Bytes of stdout and of stderr kept (default {@link DEFAULT_OUTPUT_LIMIT}); the rest is read and dropped. */
  maxOutputBytes?: number;
}

/** How a command ended. A non-zero exit, a timeout or an abort is a result, not an error. */
export interface CommandResult {
  /** The exit code, or minus the signal number when a signal ended it (-9, -15), as Python reports it. */
  exitCode: number;
  /** Standard output, UTF-8 with undecodable bytes replaced by U+FFFD, at most `maxOutputBytes` bytes. */
  stdout: string;
  /** Standard error, decoded and capped the same way. */
  stderr: string;
  /** True when stdout was longer than the cap. */
  stdoutTruncated: boolean;
  /** True when stderr was longer than the cap. */
  stderrTruncated: boolean;
  /** True when the timeout killed the command. */
  timedOut: boolean;
  /** True when the signal was aborted before the command ended. */
  aborted: boolean;
}

class CappedOutput {
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  truncated = false;

  constructor(readonly limit: number) {}

  push(chunk: Uint8Array): void {
    const room = this.limit - this.#kept;
    if (chunk.byteLength > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(kept);
    this.#kept += kept.byteLength;
  }

  text(): string {
    const out = new Uint8Array(this.#kept);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(out);
  }
}

function signalNumber(name: string | null): number {
  const signals = constants.signals as Record<string, number | undefined>;
  return (name && signals[name]) || 1;
}

/**
 * Runs `command` through `/bin/sh -c` in its own process group with exactly
 * the environment given, capturing stdout and stderr up to a cap each.
 *
 * A timeout or an abort signals the whole process group, even after the shell
 * itself has exited while a background child still holds its output open
 * (`sleep 60 & echo x`). When the command ends, whatever it left running in
 * its group is killed, so nothing outlives the run. Rejects only when the
 * shell cannot be started.
 *
 * @example
 * ```ts ignore
 * const result = await runCommand("echo hello", { env: minimalEnvironment(), timeoutMs: 5_000 });
 * result.stdout; // "hello\n"
 * ```
 */
export function runCommand(command: string, options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const limit = options.maxOutputBytes ?? DEFAULT_OUTPUT_LIMIT;
    const stdout = new CappedOutput(limit);
    const stderr = new CappedOutput(limit);
    child.stdout!.on("data", (chunk: Uint8Array) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => stderr.push(chunk));
    let ended = false;
    let timedOut = false;
    let aborted = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    // The shell may have exited already: its group lives on while any member does.
    const killGroup = (signal: "SIGTERM" | "SIGKILL"): void => {
      if (child.pid === undefined || ended) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is gone.
      }
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup("SIGTERM");
      timers.push(setTimeout(() => killGroup("SIGKILL"), options.killGraceMs ?? 2_000));
    };
    if (options.timeoutMs !== undefined && options.timeoutMs !== null) {
      timers.push(setTimeout(() => {
        timedOut = true;
        killGroup("SIGKILL");
      }, options.timeoutMs));
    }
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = (): void => {
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (error) => {
      cleanup();
      ended = true;
      reject(error);
    });
    child.on("close", (code: number | null, signal: string | null) => {
      cleanup();
      // Children that closed their output but kept running go with the run.
      killGroup("SIGKILL");
      ended = true;
      resolve({
        exitCode: timedOut ? -9 : code ?? -signalNumber(signal),
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        timedOut,
        aborted,
      });
    });
  });
}

function definedOnly(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined) out[name] = value;
  return out;
}

/**
 * The explicit environment of a shell task: `PATH`, `HOME` and `LANG` of the
 * service (with safe fallbacks) plus what is declared. Nothing else of the
 * service's environment (secrets, database URLs) reaches the command.
 */
export function minimalEnvironment(declared: Record<string, string> = {}): Record<string, string> {
  const env = processEnvironment();
  return {
    PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: env.HOME ?? "/tmp",
    LANG: env.LANG ?? "C.UTF-8",
    ...declared,
  };
}

const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD|PASSWD|CREDENTIAL|DATABASE_URL/i;

/**
 * Whether an environment variable is withheld from ML scripts: `DATABASE_URL`
 * and every name holding SECRET, TOKEN, KEY, PASSWORD (so `CHAPKIT_SECRET`
 * and `CHAPKIT_DATABASE_URL` too), while settings such as `CHAPKIT_TEMP_DIR` pass.
 */
export function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The environment of an ML shell runner: the service's own (model scripts
 * need `R_LIBS`, virtualenvs, `CHAPKIT_TEMP_DIR`…) minus secrets (see
 * {@link isSecretVariable}), plus `extra`, which is passed as given.
 */
export function scriptEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const inherited = definedOnly(processEnvironment());
  for (const name of Object.keys(inherited)) {
    if (isSecretVariable(name)) delete inherited[name];
  }
  return { ...inherited, ...extra };
}
