import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { packedTarball, ROOT, run, scratchDir } from "./_process.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, string>>;
};
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function workerSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith("-worker.ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

describe("npm package", () => {
  const scratch = scratchDir("npm");
  let tarball = "";
  let files: string[] = [];
  const app = join(scratch.path, "app");
  const unpacked = join(scratch.path, "unpacked");

  beforeAll(async () => {
    // prepack builds dist/ (bun build + tsc) before npm packs it; the tarball is shared with the other packaging tests.
    tarball = await packedTarball();
    const listing = await run(["tar", "-tzf", tarball]);
    files = listing.stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
    mkdirSync(unpacked);
    await run(["tar", "-xzf", tarball, "-C", unpacked]);
    // A fresh Bun project, as a user starts one; dependencies come from the registry.
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
    await run(["bun", "add", tarball], { cwd: app });
  }, 300_000);

  afterAll(() => scratch.remove(), 60_000); // removing installed projects takes seconds

  test("npm pack ships the bundle, its declarations, README and LICENSE, and no sources or tests", () => {
    expect(files).toContain("dist/mod.js");
    expect(files).toContain("dist/mod.d.ts");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    expect(files).toContain("package.json");
    const stray = files.filter((f) => /^(src|test|scripts|bench|examples)\//.test(f) || f.endsWith(".ts") && !f.endsWith(".d.ts"));
    expect(stray).toEqual([]);
  });

  test("every target named in package.json exports is in the tarball", () => {
    const targets = Object.values(pkg.exports).flatMap((value) => typeof value === "string" ? [value] : Object.values(value));
    expect(targets.length).toBeGreaterThan(0);
    // A pattern target ("./schemas/*") names a folder's files: it needs at least one of them.
    const missing = targets.map((t) => posix.normalize(t)).filter((t) =>
      t.includes("*") ? !files.some((f) => f.startsWith(t.slice(0, t.indexOf("*")))) : !files.includes(t)
    );
    expect(missing).toEqual([]);
  });

  test("emits every src/**/*-worker.ts as its own entry in dist/", () => {
    const expected = workerSources(join(ROOT, "src")).map((f) => `dist/${f.replace(/\.ts$/, ".js")}`).sort();
    const emitted = files.filter((f) => /^dist\/src\/.*-worker\.js$/.test(f)).sort();
    expect(emitted).toEqual(expected);
  });

  test("relative imports in the shipped declarations all resolve inside the tarball", () => {
    const unresolved: string[] = [];
    for (const file of files.filter((f) => f.endsWith(".d.ts"))) {
      const text = readFileSync(join(unpacked, "package", file), "utf8");
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const spec = match[1]!;
        const target = posix.join(posix.dirname(file), spec).replace(/\.js$/, ".d.ts");
        if (!files.includes(target)) unresolved.push(`${file}: ${spec}`);
      }
    }
    expect(files.filter((f) => f.endsWith(".d.ts")).length).toBeGreaterThan(0);
    expect(unresolved).toEqual([]);
  });

  test("a fresh Bun project that ran bun add on the tarball imports newUlid from 'chapkit' and runs it", async () => {
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual([pkg.name]);
    expect(existsSync(join(app, "node_modules", pkg.name, "dist", "mod.js"))).toBe(true);
    writeFileSync(join(app, "index.ts"), `import { newUlid } from "chapkit";\nconsole.log(newUlid());\n`);
    const { stdout } = await run(["bun", "index.ts"], { cwd: app });
    expect(stdout.trim()).toMatch(ULID);
  }, 60_000);

  test("the installed package serves the docs page and its script", async () => {
    writeFileSync(
      join(app, "docs.ts"),
      [
        `import { ServiceBuilder } from "chapkit";`,
        `const app = await new ServiceBuilder({ info: { display_name: "Docs" } }).build();`,
        `const script = await app.handle(new Request("http://localhost/docs/scalar.js"));`,
        `console.log(JSON.stringify({ script: script.status, size: (await script.arrayBuffer()).byteLength }));`,
        `await app.chapkit.close();`,
        ``,
      ].join("\n"),
    );
    const { stdout } = await run(["bun", "docs.ts"], { cwd: app });
    const answer = JSON.parse(stdout.trim().split("\n").pop()!) as { script: number; size: number };
    expect(answer.script).toBe(200);
    expect(answer.size).toBeGreaterThan(100_000);
  }, 60_000);

  test("the installed package runs ONNX inference in its worker bundled under dist/", async () => {
    writeFileSync(
      join(app, "onnx.ts"),
      [
        `import { linearRegressionOnnx, OnnxWorkerPool } from "chapkit/onnx";`,
        `const pool = new OnnxWorkerPool({ size: 1 });`,
        `const model = linearRegressionOnnx({ weights: [2, 3], bias: 1 });`,
        `const inputs = [{ data: Float32Array.from([1, 1, 2, 0]), dims: [2, 2] }];`,
        `const out = await pool.run({ modelKey: "linear", model, inputs });`,
        `console.log(JSON.stringify(Array.from(out.output!.data)));`,
        `await pool.close();`,
        ``,
      ].join("\n"),
    );
    const { stdout } = await run(["bun", "onnx.ts"], { cwd: app });
    expect(JSON.parse(stdout.trim())).toEqual([6, 5]);
  }, 120_000);

  test("the installed package type-checks in a strict TypeScript consumer", async () => {
    writeFileSync(
      join(app, "consumer.ts"),
      [
        `import { newUlid } from "chapkit";`,
        `type IsAny<T> = 0 extends 1 & T ? true : false;`,
        `const typed: IsAny<typeof newUlid> = false;`,
        `const id: string = newUlid();`,
        `console.log(typed, id);`,
        ``,
      ].join("\n"),
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["bun"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await run(["bun", tsc, "-p", "tsconfig.json"], { cwd: app });
  }, 120_000);

  test("Node.js imports the installed package as an ES module", async () => {
    writeFileSync(join(app, "index.mjs"), `import { newUlid } from "chapkit";\nconsole.log(newUlid());\n`);
    const { stdout } = await run(["node", "index.mjs"], { cwd: app });
    expect(stdout.trim()).toMatch(ULID);
  }, 60_000);

  test("a service started on Node.js stops with one line naming the runtimes it runs on", async () => {
    writeFileSync(join(app, "serve.mjs"), `import { ServiceBuilder } from "chapkit";\nawait new ServiceBuilder({ info: { display_name: "On Node" } }).withHealth().listen(0);\n`);
    const result = await run(["node", "serve.mjs"], { cwd: app, check: false });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^chapkit: a chapkit service runs on Bun \(>= 1\.4\) or Deno \(>= 2\.9\), not on Node\.js \d+\.\d+\.\d+: start this file with `bun <file>`/),
    ]);
  }, 60_000);

  test("the installed package's chapkit executable runs under bunx and Node.js", async () => {
    const viaBunx = await run(["bunx", "chapkit", "--version"], { cwd: app });
    expect(viaBunx.stdout.trim()).toBe(pkg.version);
    const viaNode = await run(["node", join(app, "node_modules", ".bin", "chapkit"), "test", "--help"], { cwd: app });
    expect(viaNode.stdout).toContain("Usage: chapkit test");
  }, 60_000);
});
