import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { RUNTIME } from "./stores.ts";

/** A service running in its own process (a real subprocess of the test runner's runtime). */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The port it printed as `READY <port>`; 0 when it exited before. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once its output matches `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Its exit code (Deno's child_process may report null after a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (any number of times, unlike Deno's `child.kill`, which sends one signal only). */
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `script` (a file that prints `READY <port>` once serving, or whatever
 * `options.ready` matches with the port as its first group; `options.command`
 * replaces the runtime's arguments, `options.executable` the runtime itself) with `env` added to the test's environment (with an in-memory store unless `env` names
 * one); resolves when it is ready or has exited.
 */
export function startService(
  script: string,
  env: Record<string, string | undefined> = {},
  options: { command?: string[]; cwd?: string; ready?: RegExp; executable?: string } = {},
): Promise<ServiceProcess> {
  const args = options.command ?? (RUNTIME === "deno" ? ["run", "-A", script] : [script]);
  const child = spawn(options.executable ?? process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", DATABASE_URL: "sqlite::memory:", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<() => void>();
  const append = (chunk: unknown): void => {
    output += String(chunk);
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      done = true;
      for (const waiter of waiters) waiter();
      resolve(code);
    })
  );
  const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}: ${output}`)), timeoutMs);
      const check = (): void => {
        const match = pattern.exec(output);
        if (match) finish(undefined, match);
        else if (done) finish(new Error(`process exited before ${pattern}: ${output}`));
      };
      const finish = (error?: Error, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      waiters.add(check);
      check();
    });
  return waitFor(options.ready ?? /READY (\d+)/).then(
    (match) => service(Number(match[1])),
    (error) => (done ? service(0) : Promise.reject(error)),
  );

  function service(port: number): ServiceProcess {
    return {
      child,
      port,
      url: `http://127.0.0.1:${port}`,
      output: () => output,
      waitFor,
      exited,
      signal(signal: NodeJS.Signals): void {
        if (!done) process.kill(child.pid!, signal);
      },
      stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
        if (!done) process.kill(child.pid!, signal);
        return exited;
      },
    };
  }
}

/** Bun, for helper processes that need Node APIs whatever runtime runs the tests (the repository's own copy when installed). */
export function bunExecutable(): string {
  const local = new URL("../../node_modules/.bin/bun", import.meta.url).pathname;
  return existsSync(local) ? local : "bun";
}
