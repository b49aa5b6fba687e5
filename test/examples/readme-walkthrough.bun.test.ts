/**
 * The curl walk-throughs of the README and the docs run as printed, in the order printed: the
 * `sh` blocks of the README's "Quick start" and of docs/querying.md against
 * `examples/quickstart.ts` on a fresh SQLite file, those of the configs-and-artifacts tutorial and
 * docs/tasks.md against the service of docs/building.md (extracted from the page), and "From zero
 * to predictions" of the functional-runner tutorial against `examples/ml_basic.ts`.
 * Each service is a real process on a free port; each section's
 * commands run in one bash shell (so the ids they keep carry over), and every command must exit
 * 0 and answer what its `# …` lines show: the status, the keys, and every scalar value that is
 * not an id or a timestamp.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

/** One command of a walk-through and the answer its comment lines show. */
interface Step {
  command: string;
  expected: string[];
}

/** A section of a Markdown file: its path, heading text and heading level (`#`, `##`…). */
type Section = [file: string, title: string, level: string];

/**
 * The body of a section, up to the next heading of its level or above outside code blocks
 * (a `# ` line inside a block is a shell comment).
 */
function section([file, title, level]: Section): string {
  const text = `\n${read(file)}`;
  const start = text.indexOf(`\n${level} ${title}\n`);
  if (start < 0) throw new Error(`${file} has no "${level} ${title}" section`);
  const lines = text.slice(start + 1).split("\n");
  let fenced = false;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.startsWith("```")) fenced = !fenced;
    else if (!fenced && new RegExp(`^#{1,${level.length}} `).test(lines[i]!)) return lines.slice(0, i).join("\n");
  }
  return lines.join("\n");
}

/** The fenced blocks of one language in a piece of Markdown. */
function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm"))].map((m) => m[1]!);
}

/** Commands (with `\` continuations) and the comment lines printed right below each. */
function steps(block: string): Step[] {
  const out: Step[] = [];
  let current: Step | undefined;
  let continued = false;
  for (const line of block.split("\n")) {
    if (continued) {
      current!.command += `\n${line}`;
      continued = line.endsWith("\\") || openQuote(current!.command);
    } else if (line.trim() === "") {
      current = undefined;
    } else if (line.startsWith("#")) {
      current?.expected.push(line.replace(/^# ?/, ""));
    } else {
      current = { command: line, expected: [] };
      out.push(current);
      continued = line.endsWith("\\") || openQuote(line);
    }
  }
  return out;
}

/** Whether a command so far leaves a single-quoted string open (it goes on on the next line). */
function openQuote(command: string): boolean {
  return (command.match(/'/g)?.length ?? 0) % 2 === 1;
}

const ULID = /[0-9A-HJKMNP-TV-Z]{26}/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT/;

/** Checks one command's answer against the lines the README prints below it. */
function checkAnswer(step: Step, actual: string): void {
  const shown = step.expected.join("\n");
  if (shown === "") return;
  const context = `${step.command}\n--- answered:\n${actual}`;
  const code = /^(\d{3})\b/.exec(shown);
  if (code) expect(actual.trim().slice(0, 3), context).toBe(code[1]!);
  const status = /^HTTP\/1\.1 (\d{3})/m.exec(shown);
  if (status) expect(actual, context).toContain(`HTTP/1.1 ${status[1]}`);
  for (const header of shown.matchAll(/^(Content-Type|Location): (\S+)/gm)) {
    expect(actual.toLowerCase(), context).toContain(`${header[1]!.toLowerCase()}:`);
    if (!ULID.test(header[2]!)) expect(actual, context).toContain(header[2]!);
  }
  for (const key of shown.matchAll(/"([A-Za-z_$][\w$]*)":/g)) expect(actual, context).toContain(`"${key[1]}":`);
  for (const pair of shown.matchAll(/"([\w$]+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)(?=[,}\]])/g)) {
    const value = pair[2]!;
    if (ULID.test(value) || TIMESTAMP.test(value.slice(1)) || /^"(platform|hostname|python_version|runtime_version)"$/.test(`"${pair[1]}"`)) continue;
    expect(actual, context).toContain(`"${pair[1]}":${value}`);
  }
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGTERM");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts a service file as a real process on a free port and returns its base URL. */
async function start(file: string, databaseUrl: string): Promise<string> {
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_URL: databaseUrl, NO_COLOR: "1", LOG_FORMAT: "console" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  return await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Uint8Array): void => {
      output += new TextDecoder().decode(chunk);
      const match = /service\.started url=(http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("close", () => reject(new Error(`exited before serving: ${output}`)));
  });
}

/** Runs the steps in one bash shell in `cwd` and returns each step's exit code and output. */
async function run(list: Step[], url: string, cwd: string): Promise<{ code: number; output: string }[]> {
  const host = url.replace(/^http:\/\//, "");
  // A real pipe (not the socket a spawned child gets), so that `curl -D /dev/stderr` can open it.
  const script = ["exec > >(cat) 2>&1"];
  list.forEach((step, i) => {
    const command = step.command.replaceAll("127.0.0.1:8000", host).replaceAll("localhost:8000", host);
    script.push(`printf '\\n@@step ${i}\\n'`, command, `rc=$?; printf '\\n@@code %d\\n' $rc; [ $rc = 0 ] || exit 0`);
  });
  const child = spawn("bash", ["-c", script.join("\n")], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  const exit = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  expect(exit, output).toBe(0);
  return output.split(/\n@@step \d+\n/).slice(1).map((part) => {
    const match = /\n@@code (\d+)\n?$/.exec(part);
    return { code: match ? Number(match[1]) : -1, output: match ? part.slice(0, match.index) : part };
  });
}

/** Runs the `sh` walk-throughs of the given sections against a started service. */
async function walkThrough(sections: Section[], url: string): Promise<number> {
  const cwd = mkdtempSync(join(tmpdir(), "chapkit-readme-"));
  dirs.push(cwd);
  const list = sections
    .flatMap((where) => blocks(section(where), "sh"))
    .flatMap(steps)
    .filter((step) => !/^(npm ci|bun examples\/)/.test(step.command)); // the service itself is already running
  const results = await run(list, url, cwd);
  results.forEach((result, i) => {
    expect(result.code, `${list[i]!.command}\n${result.output}`).toBe(0);
    checkAnswer(list[i]!, result.output);
  });
  expect(results.length).toBe(list.length);
  return list.length;
}

describe("the walk-throughs of the README and the docs", () => {
  it("run as printed against the quick-start service on a fresh SQLite file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chapkit-quickstart-"));
    dirs.push(dir);
    const url = await start(join(ROOT, "examples/quickstart.ts"), `sqlite://${join(dir, "quickstart.db")}`);
    expect(await walkThrough([["README.md", "Quick start", "##"], ["docs/querying.md", "Querying lists", "#"]], url)).toBeGreaterThanOrEqual(15);
  }, 60_000);

  it("run as printed, in order, against the service of \"Building a service\"", async () => {
    const code = blocks(section(["docs/building.md", "Building a service", "#"]), "ts")[0]!;
    expect(code).toContain(".withTasks(");
    const dir = join(ROOT, ".tmp");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-walkthrough-${process.pid}-${Date.now()}.ts`);
    writeFileSync(file, code);
    try {
      const url = await start(file, "sqlite::memory:");
      expect(await walkThrough([
        ["docs/tutorials/configs-and-artifacts.md", "Configs", "##"],
        ["docs/tutorials/configs-and-artifacts.md", "Artifacts", "##"],
        ["docs/tasks.md", "Tasks", "#"],
      ], url)).toBeGreaterThan(30);
    } finally {
      rmSync(file, { force: true });
    }
  }, 60_000);

  it("run as printed, in order, against examples/ml_basic.ts (from zero to predictions)", async () => {
    const url = await start(join(ROOT, "examples/ml_basic.ts"), "sqlite::memory:");
    expect(await walkThrough([["docs/tutorials/ml-functional.md", "From zero to predictions", "##"]], url)).toBeGreaterThanOrEqual(12);
  }, 60_000);
});
