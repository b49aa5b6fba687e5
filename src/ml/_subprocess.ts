// Temp dirs and shell commands for the shell runner (node: built-ins that Bun and Deno share).
import { spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

// Python's tempfile names: 8 characters from this alphabet.
const NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";

/**
 * Runs `body` in a fresh private directory `<base>/<prefix>XXXXXXXX` and
 * always removes the directory afterwards.
 */
export async function withTempDir<T>(prefix: string, base: string | undefined, body: (dir: string) => Promise<T>): Promise<T> {
  const parent = base ?? tmpdir();
  let dir = "";
  for (let attempt = 0; ; attempt++) {
    const suffix = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => NAME_CHARS[b % NAME_CHARS.length]);
    dir = join(parent, prefix + suffix.join(""));
    try {
      await mkdir(dir, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST" || attempt > 100) throw error;
    }
  }
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The outcome of a shell command. */
export interface ShellResult {
  /** Exit code; a process killed by a signal reports minus the signal number, as Python does. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runShell}. */
export interface RunShellOptions {
  cwd: string;
  signal: AbortSignal;
  env?: Record<string, string>;
  shell?: string;
  /** Time between SIGTERM and SIGKILL when aborted. */
  killGraceMs?: number;
}

/**
 * Runs `command` through `/bin/sh -c` in its own process group, capturing
 * UTF-8 stdout/stderr. Aborting `signal` terminates the whole group and
 * rejects with the signal's reason.
 */
export function runShell(command: string, options: RunShellOptions): Promise<ShellResult> {
  const { signal } = options;
  signal.throwIfAborted();
  return new Promise<ShellResult>((resolve, reject) => {
    const child = spawn(options.shell ?? "/bin/sh", ["-c", command], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    child.stdout!.on("data", (chunk: Uint8Array) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => stderr.push(chunk));
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const killGroup = (sig: "SIGTERM" | "SIGKILL"): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = (): void => {
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), options.killGraceMs ?? 2000);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const finish = (): void => {
      signal.removeEventListener("abort", onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
    };
    child.on("error", (error) => {
      finish();
      reject(error);
    });
    child.on("close", (code, signalName) => {
      finish();
      if (signal.aborted) return reject(signal.reason);
      const signalNumber = signalName ? (constants.signals as Record<string, number>)[signalName] ?? 1 : 0;
      resolve({
        code: code ?? -signalNumber,
        stdout: decode(stdout),
        stderr: decode(stderr),
      });
    });
  });
}

function decode(chunks: Uint8Array[]): string {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(joined);
}
