/** Helpers for packaging tests: real subprocesses and scratch directories. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT: string = resolve(import.meta.dir, "../..");

/** The outcome of a finished subprocess. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Expect a zero exit code and throw with the output otherwise (default true). */
  check?: boolean;
}

/** Removes ANSI colour codes. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * Runs a command to completion with `node_modules/.bin` first on PATH and
 * returns its exit code and output.
 */
export async function run(cmd: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = {
    ...process.env,
    PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    NO_COLOR: "1",
    ...options.env,
  };
  const child = Bun.spawn([...cmd], {
    cwd: options.cwd ?? ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const result = { code, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr) };
  if ((options.check ?? true) && code !== 0) {
    throw new Error(
      `\`${cmd.join(" ")}\` in ${options.cwd ?? ROOT} exited with ${code}\n` +
        `--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
  }
  return result;
}

/** A fresh directory under the system temp dir. */
export function scratchDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `chapkit-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

let packed: Promise<string> | undefined;

/**
 * The npm tarball of this checkout, built and packed once per test process
 * (`bun test` runs every packaging file in one process) into a directory that
 * is removed when the process exits. `prepack` builds dist/ first.
 */
export function packedTarball(): Promise<string> {
  packed ??= (async () => {
    const dir = scratchDir("tarball");
    process.on("exit", () => dir.remove());
    await run(["npm", "pack", "--pack-destination", dir.path]);
    const name = readdirSync(dir.path).find((file) => file.endsWith(".tgz"));
    if (!name) throw new Error("npm pack wrote no tarball");
    return join(dir.path, name);
  })();
  return packed;
}
