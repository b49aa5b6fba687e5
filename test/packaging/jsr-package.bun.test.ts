import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { ROOT, run, scratchDir } from "./_process.ts";

interface DenoConfig {
  name: string;
  version: string;
  license: string;
  exports: string | Record<string, string>;
  imports: Record<string, string>;
}

const denoConfig = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as DenoConfig;
const npmManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  license: string;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/**
 * Bare specifiers a source file imports: import and export declarations, `import("…")` calls and
 * types, read by TypeScript's scanner so that comments and string or template literals (doc
 * examples, the project templates of `chapkit init`) do not count.
 */
function bareSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
    if (!/^(\.|\/|[a-z]+:)/.test(spec)) found.add(spec);
  }
  return [...found];
}

/** The npm package a bare specifier names: `@scope/name` or `name`. */
function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

describe("JSR package", () => {
  const scratch = scratchDir("jsr");
  let dryRun = { code: 0, stdout: "", stderr: "" };
  let published: string[] = [];

  beforeAll(async () => {
    dryRun = await run(["deno", "publish", "--dry-run", "--allow-dirty"], { check: false });
    const prefix = `file://${ROOT}/`;
    published = `${dryRun.stdout}\n${dryRun.stderr}`
      .split("\n")
      .map((line) => line.trim().split(" ")[0] ?? "")
      .filter((url) => url.startsWith(prefix))
      .map((url) => decodeURIComponent(url.slice(prefix.length)));
  }, 300_000);

  afterAll(() => scratch.remove(), 60_000); // removing installed projects takes seconds

  test("deno publish --dry-run accepts the package: no slow types, no missing files", () => {
    if (dryRun.code !== 0) throw new Error(`deno publish --dry-run failed:\n${dryRun.stdout}\n${dryRun.stderr}`);
    expect(dryRun.code).toBe(0);
    expect(published).toContain("mod.ts");
    expect(published).toContain("deno.json");
    expect(published).toContain("README.md");
    expect(published).toContain("LICENSE");
  });

  test("publishes no tests, scripts or Bun-only sources", () => {
    const stray = published.filter((f) => /^(test|scripts|bench|examples|node_modules|dist)\//.test(f) || f.endsWith(".bun.ts"));
    expect(published.length).toBeGreaterThan(0);
    expect(stray).toEqual([]);
  });

  test("deno.json and package.json name the same version and license", () => {
    expect(denoConfig.version).toBe(npmManifest.version);
    expect(denoConfig.license).toBe(npmManifest.license);
  });

  test("every bare specifier in the published sources is mapped in deno.json imports and is a package.json dependency or peer", () => {
    const problems: string[] = [];
    const keys = Object.keys(denoConfig.imports);
    for (const file of published.filter((f) => f.endsWith(".ts"))) {
      for (const spec of bareSpecifiers(readFileSync(join(ROOT, file), "utf8"))) {
        // The package's own name appears in the code the CLI generates for projects, not as an import.
        if (packageOf(spec) === "chapkit") continue;
        // Deno lets a key that maps to an npm:/jsr: package cover that package's subpaths too.
        const mapped = keys.some((key) =>
          key === spec ||
          (key.endsWith("/") && spec.startsWith(key)) ||
          (spec.startsWith(`${key}/`) && /^(npm|jsr):/.test(denoConfig.imports[key] ?? ""))
        );
        if (!mapped) problems.push(`${file}: "${spec}" has no entry in deno.json imports`);
        // The package's own name (project templates import "chapkit") maps onto its own entries; heavy
        // packages loaded on first use are optional peer dependencies (DESIGN "Footprint").
        const declared = { ...npmManifest.dependencies, ...npmManifest.peerDependencies };
        if (packageOf(spec) !== npmManifest.name && !(packageOf(spec) in declared)) {
          problems.push(`${file}: "${packageOf(spec)}" is not in package.json dependencies or peerDependencies`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  /** A fresh Deno project linking `jsr:@chapkit/core` to exactly the files JSR would receive. */
  function denoConsumer(name: string, main: string): string {
    if (dryRun.code !== 0) throw new Error("deno publish --dry-run failed; see the test above");
    // The package's own deno.json import map applies to its modules, as on JSR.
    const pkgDir = join(scratch.path, "package");
    for (const file of published) {
      mkdirSync(dirname(join(pkgDir, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(pkgDir, file));
    }
    const app = join(scratch.path, name);
    mkdirSync(app);
    writeFileSync(join(app, "deno.json"), JSON.stringify({ links: [relative(app, pkgDir)] }));
    writeFileSync(join(app, "main.ts"), main);
    return app;
  }

  test("a fresh Deno project imports jsr:@chapkit/core from the published files and runs newUlid", async () => {
    const app = denoConsumer("ulid", `import { newUlid } from "jsr:${denoConfig.name}";\nconsole.log(newUlid());\n`);
    const { stdout } = await run(["deno", "run", "-A", "main.ts"], { cwd: app });
    expect(stdout.trim()).toMatch(ULID);
  }, 300_000);

  test("a fresh Deno project runs ONNX inference in the published package's worker", async () => {
    const app = denoConsumer(
      "onnx",
      [
        `import { linearRegressionOnnx, OnnxWorkerPool } from "jsr:${denoConfig.name}/onnx";`,
        `const pool = new OnnxWorkerPool({ size: 1 });`,
        `const model = linearRegressionOnnx({ weights: [2, 3], bias: 1 });`,
        `const inputs = [{ data: Float32Array.from([1, 1, 2, 0]), dims: [2, 2] }];`,
        `const out = await pool.run({ modelKey: "linear", model, inputs });`,
        `console.log(JSON.stringify(Array.from(out.output!.data)));`,
        `await pool.close();`,
        ``,
      ].join("\n"),
    );
    const { stdout } = await run(["deno", "run", "-A", "main.ts"], { cwd: app });
    expect(JSON.parse(stdout.trim())).toEqual([6, 5]);
  }, 300_000);

  test("the docs page and its script load from the published files", async () => {
    const app = denoConsumer(
      "docs",
      [
        `import { ServiceBuilder } from "jsr:${denoConfig.name}";`,
        `const app = await new ServiceBuilder({ info: { display_name: "Docs" } }).build();`,
        `const page = await app.handle(new Request("http://localhost/docs"));`,
        `const script = await app.handle(new Request("http://localhost/docs/scalar.js"));`,
        `const size = (await script.arrayBuffer()).byteLength;`,
        `await page.body?.cancel();`,
        `console.log(JSON.stringify({ page: page.status, script: script.status, size }));`,
        `await app.chapkit.close();`,
        ``,
      ].join("\n"),
    );
    const { stdout } = await run(["deno", "run", "-A", "main.ts"], { cwd: app });
    const answer = JSON.parse(stdout.trim().split("\n").pop()!) as { page: number; script: number; size: number };
    expect(answer.page).toBe(200);
    expect(answer.script).toBe(200);
    expect(answer.size).toBeGreaterThan(100_000);
  }, 300_000);

  test("deno run -A jsr:@chapkit/core/cli runs the chapkit command from the published files", async () => {
    const app = denoConsumer("cli", "");
    const { stdout } = await run(["deno", "run", "-A", `jsr:${denoConfig.name}/cli`, "--version"], { cwd: app });
    expect(stdout.trim()).toBe(denoConfig.version);
  }, 300_000);
});
