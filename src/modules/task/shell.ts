import { spawn } from "node:child_process";
import { constants } from "node:os";

/** What a finished shell command left. */
export interface ShellResult {
  /** Standard output, UTF-8 with undecodable bytes replaced by U+FFFD. */
  stdout: string;
  /** Standard error, decoded the same way. */
  stderr: string;
  /** The exit code, or minus the signal number when a signal ended it (e.g. -9, -15). */
  exit_code: number;
}

/** Options of {@link runShell}. */
export interface ShellOptions {
  /** Milliseconds before the command's process group is killed (SIGKILL); null or absent: no limit. */
  timeoutMs?: number | null;
  /** Aborting it terminates the command's process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Working directory (default: the server's). */
  cwd?: string;
  /** Milliseconds between SIGTERM and SIGKILL after an abort (default 2 000). */
  killGraceMs?: number;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function signalNumber(name: string | null): number {
  const signals = constants.signals as Record<string, number | undefined>;
  return (name && signals[name]) || 1;
}

/**
 * Runs `command` through `/bin/sh -c` in its own process group, inheriting
 * the server's environment, and captures stdout and stderr separately. A
 * non-zero exit, a timeout or an abort is not an error: the result says how
 * the command ended. Rejects only when the shell cannot be started.
 *
 * @example
 * ```ts ignore
 * const { stdout, exit_code } = await runShell("echo hello", { timeoutMs: 5_000 });
 * ```
 */
export function runShell(command: string, options: ShellOptions = {}): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      cwd: options.cwd ?? process.cwd(),
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    child.stdout!.on("data", (chunk: Uint8Array) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => stderr.push(chunk));
    const timers: ReturnType<typeof setTimeout>[] = [];
    const kill = (signal: "SIGTERM" | "SIGKILL"): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const onAbort = (): void => {
      kill("SIGTERM");
      timers.push(setTimeout(() => kill("SIGKILL"), options.killGraceMs ?? 2_000));
    };
    if (options.timeoutMs !== undefined && options.timeoutMs !== null) {
      timers.push(setTimeout(() => kill("SIGKILL"), options.timeoutMs));
    }
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = (): void => {
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (error) => {
      cleanup();
      reject(error);
    });
    child.on("close", (code: number | null, signal: string | null) => {
      cleanup();
      const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
      resolve({
        stdout: decoder.decode(concat(stdout)),
        stderr: decoder.decode(concat(stderr)),
        exit_code: code ?? -signalNumber(signal),
      });
    });
  });
}
