/** Helpers for CLI tests: captured output, the executable as a real subprocess, and a sample service. */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import type { CliOutput } from "../../src/cli/_output.ts";
import { runCli } from "../../src/cli/program.ts";
import { runtimeName } from "../../src/runtime/runtime.ts";
import type { RunningService } from "../../src/service/listen.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url).href);
const BIN = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url).href);

/** What a command printed and its exit status. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command in-process with captured, colourless output, in `env` (default: the test's environment). */
export async function runCaptured(
  argv: string[],
  cwd: string = ROOT,
  env: Record<string, string | undefined> = { ...process.env },
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const output: CliOutput = {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    interactive: false,
    color: false,
  };
  const code = await runCli(argv, { output, cwd, env });
  return { code, stdout, stderr };
}

/** Runs `src/cli/bin.ts` as a subprocess of the current runtime. */
export function runBin(argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const args = runtimeName() === "deno" ? ["run", "-A", "--no-check", BIN, ...argv] : [BIN, ...argv];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => void (stdout += String(chunk)));
  child.stderr!.on("data", (chunk) => void (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A service with every seed module: config, artifacts, tasks and jobs on in-memory SQLite. */
export function seedService(): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "CLI test service" }, databaseUrl: "sqlite::memory:" })
    .withHealth()
    .withSystem()
    .withConfig(Type.Object({ min_samples: Type.Integer({ minimum: 2 }), label: Type.String() }, { title: "TestConfig" }))
    .withArtifacts({ hierarchy: { name: "test", level_labels: { 0: "root" } } })
    .withTasks({ shell: { commands: ["echo chapkit-conformance"] } })
    .withJobs()
    // listen() lets the environment override the code's settings: without this, the suite's
    // DATABASE_URL would move the in-memory store into the shared PostgreSQL database.
    .withSettings({ env: {} });
}

/**
 * A scratch directory inside the repository (so bare imports of generated code
 * resolve through its manifests) and the seed service listening on a free port,
 * both set up before and removed after the enclosing `describe`.
 */
export function servedSeedProject(label: string): { dir: string; service(): RunningService } {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", `cli-${label}-`));
  let running: RunningService | undefined;
  before(async () => {
    running = await seedService().listen(0, { hostname: "127.0.0.1", handleSignals: false });
  });
  after(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, service: () => running! };
}
