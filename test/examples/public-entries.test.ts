/**
 * Examples are written as a package user writes them: they import only the
 * package's public entries (`chapkit`, `chapkit/<subpath>`), its declared
 * dependencies and `node:` built-ins, resolved through the same mapping a
 * user has (tsconfig `paths` for Bun and tsc, deno.json `imports` for Deno,
 * both pointing at the files package.json and deno.json export). Two of them
 * also run as real processes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { RUNTIME } from "../_support/stores.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const read = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

const pkg = read("package.json") as { exports: Record<string, unknown>; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
const deno = read("deno.json") as { exports: Record<string, string>; imports: Record<string, string> };
const tsconfig = read("tsconfig.json") as { compilerOptions: { paths: Record<string, string[]> } };

/** `.` → `chapkit`, `./cli` → `chapkit/cli`. */
const entryName = (key: string): string => `chapkit${key.slice(1)}`;
const ENTRIES = Object.keys(deno.exports).map(entryName);
/** Packages a user adds beside chapkit for a client of the service (the typed-client example). */
const CLIENT_PACKAGES = ["@elysiajs/eden"];
const PACKAGES = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...CLIENT_PACKAGES]);

/**
 * package.json export keys that name modules (conditions such as `import`/`types`, or a `.js` file),
 * not plain files shipped for tools (`./package.json`, the JSON Schemas under `./schemas/*`).
 */
function moduleExports(): string[] {
  return Object.entries(pkg.exports)
    .filter(([, target]) => (typeof target === "object" && target !== null) || /\.[cm]?js$/.test(String(target)))
    .map(([key]) => key);
}

function examples(dir = join(ROOT, "examples")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return examples(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) found.push(match[1]!);
  return found;
}

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function allowed(specifier: string): boolean {
  if (specifier.startsWith("node:")) return true;
  if (specifier === "chapkit" || specifier.startsWith("chapkit/")) return ENTRIES.includes(specifier);
  return !specifier.startsWith(".") && !specifier.startsWith("/") && PACKAGES.has(packageOf(specifier));
}

describe("examples", () => {
  it("map every public entry the same way for Bun, tsc and Deno, onto the exported files", () => {
    assert.deepEqual(moduleExports().sort(), Object.keys(deno.exports).sort());
    for (const [key, file] of Object.entries(deno.exports)) {
      const name = entryName(key);
      assert.equal(deno.imports[name], file, `deno.json imports ${name}`);
      assert.deepEqual(tsconfig.compilerOptions.paths[name], [file], `tsconfig paths ${name}`);
    }
  });

  for (const file of examples()) {
    const name = relative(ROOT, file);
    it(`${name} imports only public entries, dependencies and node: built-ins`, () => {
      const found = specifiers(readFileSync(file, "utf8"));
      assert.ok(found.length > 0, `${name} imports nothing`);
      // An example's own files (a plugin beside the service using it) are fine; the rest of the repository is not.
      const local = (specifier: string): boolean =>
        specifier.startsWith("./") && !relative(join(ROOT, "examples"), join(file, "..", specifier)).startsWith("..");
      assert.deepEqual(found.filter((specifier) => !allowed(specifier) && !local(specifier)), []);
    });
  }

  it("refuses a private path, an unexported subpath and a dev-only package", () => {
    assert.equal(allowed("../src/runtime/serve.ts"), false);
    assert.equal(allowed("chapkit/src/runtime/serve.ts"), false);
    assert.equal(allowed("fast-check"), false);
    assert.equal(allowed("@sinclair/typebox/value"), true);
  });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(example: string, args: string[], env: Record<string, string> = {}) {
  const path = join(ROOT, "examples", example);
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", path, ...args] : [path, ...args], {
    cwd: ROOT,
    // The suite's DATABASE_URL names a shared PostgreSQL database: examples get a store of their own.
    env: { ...process.env, NO_COLOR: "1", DATABASE_URL: "sqlite::memory:", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { code: null, stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Uint8Array) => (run.stdout += new TextDecoder().decode(chunk)));
  child.stderr.on("data", (chunk: Uint8Array) => (run.stderr += new TextDecoder().decode(chunk)));
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ ...run, code }));
  });
  return { child, run, done };
}

async function waitFor(run: Run, pattern: RegExp, done: Promise<Run>): Promise<RegExpMatchArray> {
  let finished = false;
  void done.then(() => (finished = true));
  for (;;) {
    const match = run.stdout.match(pattern);
    if (match) return match;
    if (finished) throw new Error(`exited before printing ${pattern}: ${run.stdout}${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("examples run through the public entries", () => {
  it("custom_entity.ts serves nothing but runs its direct calls with --no-serve", async () => {
    const { done } = start("custom_entity.ts", ["--no-serve"]);
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^created Welcome \([0-7][0-9A-HJKMNP-TV-Z]{25}\) with tags \["intro"\]$/m);
    assert.match(result.stdout, /^pinned notes: Pinned$/m);
  });

  it("embed_in_existing_app.ts answers the host's route and the service's, and stops on SIGTERM", async () => {
    const { child, run, done } = start("embed_in_existing_app.ts", [], { PORT: "0" });
    try {
      const [, port] = await waitFor(run, /on http:\/\/127\.0\.0\.1:(\d+)/, done);
      const host = await fetch(`http://127.0.0.1:${port}/`);
      assert.deepEqual(await host.json(), { app: "existing", chapkit: "/chapkit/" });
      assert.equal(host.headers.get("x-served-by"), "host");
      const health = await fetch(`http://127.0.0.1:${port}/chapkit/api/v1/health`);
      assert.equal((await health.json()).status, "healthy");
      const document = await (await fetch(`http://127.0.0.1:${port}/chapkit/openapi.json`)).json();
      assert.deepEqual(document.servers, [{ url: "/chapkit" }]);
    } finally {
      child.kill("SIGTERM");
    }
    // Deno's child_process reports the signal it sent even after a clean exit, so the proof is the example's last line.
    const result = await done;
    assert.match(result.stdout, /^Stopped: host server and chapkit service closed$/m, result.stderr);
  });
});
