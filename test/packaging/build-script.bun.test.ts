import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT, run, scratchDir } from "./_process.ts";

/** A minimal project laid out like chapkit, built by the real scripts/build.ts. */
function fixtureProject(dir: string, files: Record<string, string>): void {
  for (const file of ["scripts/build.ts", "tsconfig.json", "tsconfig.build.json"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

const WORKER_PROJECT = {
  "mod.ts": [
    `export { echoInWorker } from "./src/ml/pool.ts";`,
    `export { landingPage } from "./src/http/landing.ts";`,
    ``,
  ].join("\n"),
  "src/ml/pool.ts": [
    `/** Sends text to a worker and resolves with its reply. */`,
    `export function echoInWorker(text: string): Promise<string> {`,
    `  const worker = new Worker(new URL("./echo-worker.ts", import.meta.url).href, { type: "module" });`,
    `  return new Promise((resolve) => {`,
    `    worker.onmessage = (event: MessageEvent<string>) => { resolve(event.data); worker.terminate(); };`,
    `    worker.postMessage(text);`,
    `  });`,
    `}`,
    ``,
  ].join("\n"),
  "src/ml/echo-worker.ts": [
    `import { shout } from "./shout.ts";`,
    `declare const self: { onmessage: (event: MessageEvent<string>) => void; postMessage(data: string): void };`,
    `self.onmessage = (event) => self.postMessage(shout(event.data));`,
    ``,
  ].join("\n"),
  "src/ml/shout.ts": `/** Upper-cases text. */\nexport function shout(text: string): string { return text.toUpperCase() + "!"; }\n`,
  "src/http/landing.html": `<h1>landing</h1>\n`,
  "src/http/landing.ts": [
    `import { readFileSync } from "node:fs";`,
    `import { fileURLToPath } from "node:url";`,
    `/** The landing page HTML. */`,
    `export function landingPage(): string {`,
    `  return readFileSync(fileURLToPath(new URL("./landing.html", import.meta.url).href), "utf8");`,
    `}`,
    ``,
  ].join("\n"),
};

describe("scripts/build.ts", () => {
  const scratch = scratchDir("build");
  afterAll(() => scratch.remove(), 60_000); // removing installed projects takes seconds

  test("bundles each *-worker.ts as its own entry and rewrites its new URL so the worker starts from dist/", async () => {
    const project = join(scratch.path, "workers");
    fixtureProject(project, WORKER_PROJECT);
    await run(["bun", "scripts/build.ts"], { cwd: project });
    expect(existsSync(join(project, "dist/src/ml/echo-worker.js"))).toBe(true);
    expect(existsSync(join(project, "dist/src/ml/echo-worker.d.ts"))).toBe(true);
    // Moved away from the sources, the bundle must only need dist/ itself.
    const moved = join(scratch.path, "moved");
    cpSync(join(project, "dist"), join(moved, "dist"), { recursive: true });
    writeFileSync(join(moved, "main.mjs"), `import { echoInWorker } from "./dist/mod.js";\nconsole.log(await echoInWorker("hello"));\n`);
    const { stdout } = await run(["bun", "main.mjs"], { cwd: moved });
    expect(stdout.trim()).toBe("HELLO!");
  }, 120_000);

  test("copies a non-TypeScript asset reached through new URL into dist/ and points the bundle at it", async () => {
    const project = join(scratch.path, "assets");
    fixtureProject(project, WORKER_PROJECT);
    await run(["bun", "scripts/build.ts"], { cwd: project });
    expect(readFileSync(join(project, "dist/src/http/landing.html"), "utf8")).toBe("<h1>landing</h1>\n");
    writeFileSync(join(project, "page.mjs"), `import { landingPage } from "./dist/mod.js";\nconsole.log(landingPage());\n`);
    const { stdout } = await run(["node", "page.mjs"], { cwd: project });
    expect(stdout.trim()).toBe("<h1>landing</h1>");
  }, 120_000);

  test("rewrites relative .ts specifiers in emitted declarations to .js", async () => {
    const project = join(scratch.path, "declarations");
    fixtureProject(project, WORKER_PROJECT);
    await run(["bun", "scripts/build.ts"], { cwd: project });
    const declarations = readFileSync(join(project, "dist/mod.d.ts"), "utf8");
    expect(declarations).toContain(`from "./src/ml/pool.js"`);
    expect(declarations).not.toContain(`.ts"`);
  }, 120_000);

  test("fails when new URL points at a TypeScript module that is not a *-worker.ts entry", async () => {
    const project = join(scratch.path, "misnamed");
    fixtureProject(project, {
      ...WORKER_PROJECT,
      "src/ml/pool.ts": WORKER_PROJECT["src/ml/pool.ts"].replace("./echo-worker.ts", "./shout.ts"),
    });
    const result = await run(["bun", "scripts/build.ts"], { cwd: project, check: false });
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toContain("name it *-worker.ts");
  }, 120_000);
});
