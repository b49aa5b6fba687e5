/**
 * Records the terminal walkthroughs in docs/casts/ as asciicast v2 files
 * (play them with `asciinema play docs/casts/quickstart.cast` or any
 * asciicast player): every command shown is really run, here, and its real
 * output is what the recording shows. Typing is simulated at a steady pace.
 *
 *   bun scripts/record-casts.ts            records every walkthrough
 *   bun scripts/record-casts.ts cli        records one
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const root = resolve(import.meta.dirname!, "..");
const bin = join(root, "node_modules", ".bin");
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1", FORCE_COLOR: "0" };

/** One recording being written: events as [seconds, "o", text]. */
class Cast {
  readonly events: [number, "o", string][] = [];
  #clock = 0;

  constructor(readonly title: string) {}

  /** Shows a prompt and types `command`, then a newline. */
  type(command: string): void {
    this.#emit(0.6, "\u001b[32m$\u001b[0m ");
    for (const char of command) this.#emit(0.035, char);
    this.#emit(0.25, "\r\n");
  }

  /** Shows `text` as the command's output, a line at a time. */
  output(text: string): void {
    for (const line of text.replace(/\r?\n$/, "").split(/\r?\n/)) this.#emit(0.04, `${line}\r\n`);
  }

  /**
   * Types and runs a command in `cwd`, showing its real output; `rewrite`
   * replaces what only this recording machine has (a port, a temporary path).
   */
  run(command: string, cwd: string, shown = command, rewrite: (text: string) => string = (text) => text): void {
    this.type(shown);
    const result = spawnSync("bash", ["-c", command], { cwd, env, encoding: "utf8", timeout: 120_000 });
    if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr}`);
    this.output(rewrite(`${result.stdout}${result.stderr}`));
  }

  #emit(delay: number, text: string): void {
    this.#clock += delay;
    this.events.push([Number(this.#clock.toFixed(3)), "o", text]);
  }

  write(name: string): void {
    const header = { version: 2, width: 110, height: 32, timestamp: 0, title: this.title, env: { SHELL: "/bin/bash", TERM: "xterm-256color" } };
    const lines = [JSON.stringify(header), ...this.events.map((event) => JSON.stringify(event))];
    mkdirSync(join(root, "docs", "casts"), { recursive: true });
    writeFileSync(join(root, "docs", "casts", `${name}.cast`), `${lines.join("\n")}\n`);
    console.log(`wrote docs/casts/${name}.cast (${this.events.length} events, ${this.events.at(-1)?.[0] ?? 0} s)`);
  }
}

async function waitFor(url: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** The quickstart service: start it, then configs, artifacts and health over curl. */
async function quickstart(): Promise<void> {
  const cast = new Cast("chapkit quickstart: a service on embedded SQLite, then configs and artifacts over HTTP");
  const dir = mkdtempSync(join(tmpdir(), "chapkit-cast-"));
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const server = spawn(join(bin, "bun"), [join(root, "examples", "quickstart.ts")], {
    cwd: dir,
    env: { ...env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, "quickstart.db")}`, LOG_FORMAT: "console" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  server.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  server.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  try {
    cast.type("npm run quickstart &");
    await waitFor(`http://127.0.0.1:${port}/api/v1/health`);
    const base = `http://127.0.0.1:${port}`;
    const shown = (text: string): string => text.replaceAll(base, "localhost:8000").replaceAll(`127.0.0.1:${port}`, "127.0.0.1:8000");
    cast.output(shown(log.split("\n").filter((line) => line.trim()).slice(0, 3).join("\n") || "listening"));
    const steps = [
      `curl -s ${base}/api/v1/health`,
      `curl -s ${base}/api/v1/config -H 'content-type: application/json' -d '{"name":"weather","data":{"min_samples":7}}' | python3 -m json.tool`,
      `curl -s '${base}/api/v1/config?fields=id,name,data.min_samples'`,
      `curl -s ${base}/api/v1/artifacts -H 'content-type: application/json' -d '{"data":{"ml_type":"trained_model","name":"weather model"}}' | python3 -m json.tool`,
      `curl -s -g '${base}/api/v1/artifacts?data.ml_type=trained_model&fields=id,level,data.name'`,
      `curl -s ${base}/api/v1/config/not-a-ulid | python3 -m json.tool`,
    ];
    for (const step of steps) cast.run(step, dir, shown(step), shown);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  cast.write("quickstart");
}

/** The command line: a project from a template, its files, the conformance test. */
function cli(): void {
  const cast = new Cast("chapkit command line: a new project from a template");
  const dir = mkdtempSync(join(tmpdir(), "chapkit-cast-"));
  try {
    const chapkit = `bun ${join(root, "src", "cli", "bin.ts")}`;
    const here = (text: string): string => text.replaceAll(`${dir}/`, "./");
    cast.run(`${chapkit} --version`, dir, "chapkit --version");
    cast.run(`${chapkit} init notes -t basic --no-install`, dir, "chapkit init notes -t basic --no-install", here);
    cast.run("find notes -type f | sort", dir);
    cast.run(`${chapkit} --help`, dir, "chapkit --help");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  cast.write("cli");
}

const wanted = process.argv.slice(2);
if (wanted.length === 0 || wanted.includes("quickstart")) await quickstart();
if (wanted.length === 0 || wanted.includes("cli")) cli();
