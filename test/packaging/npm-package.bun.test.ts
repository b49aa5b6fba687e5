import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { packedTarball, ROOT, run, scratchDir } from "./_process.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, string>>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
/** The core install's budget: chapkit, its dependencies and its required peers (Elysia, TypeBox). */
const INSTALL_BUDGET_BYTES = 60 * 1024 * 1024;
const OPTIONAL_PEERS = Object.keys(pkg.peerDependenciesMeta).filter((name) => pkg.peerDependenciesMeta[name]?.optional);

/** Bytes of the files under `dir` (symbolic links not followed). */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += lstatSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}
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
  let installedBytes = 0;

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
    installedBytes = treeBytes(join(app, "node_modules"));
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

  test(`bun add of the tarball installs at most ${INSTALL_BUDGET_BYTES / 1024 / 1024} MB, without the optional peers`, () => {
    const installed = OPTIONAL_PEERS.filter((name) => existsSync(join(app, "node_modules", name)));
    expect(installed).toEqual([]);
    expect(OPTIONAL_PEERS).toEqual(expect.arrayContaining(["onnxruntime-web", "msgpackr", "@scalar/api-reference"]));
    expect(Object.keys(pkg.peerDependencies)).toEqual(expect.arrayContaining(["elysia", "@sinclair/typebox"]));
    const scripted = readdirSync(join(app, "node_modules"), { recursive: true, encoding: "utf8" })
      .filter((path) => path.endsWith("package.json") && path.split("node_modules").length <= 2)
      .filter((path) => {
        const scripts = (JSON.parse(readFileSync(join(app, "node_modules", path), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
        return ["preinstall", "install", "postinstall"].some((name) => name in scripts);
      });
    expect(scripted).toEqual([]);
    console.log(`core install: ${(installedBytes / 1024 / 1024).toFixed(1)} MB`);
    expect(installedBytes).toBeLessThanOrEqual(INSTALL_BUDGET_BYTES);
  });

  test("without the docs UI package /docs serves the built-in page, and ONNX names the package to add", async () => {
    writeFileSync(
      join(app, "bare.ts"),
      [
        `import { ServiceBuilder } from "chapkit";`,
        `const app = await new ServiceBuilder({ info: { display_name: "Bare" } }).build();`,
        `const get = (path) => app.handle(new Request("http://localhost" + path));`,
        `const page = await (await get("/docs")).text();`,
        `const script = await get("/docs/openapi-page.js");`,
        `const scalar = await get("/docs/scalar.js");`,
        `await app.chapkit.close();`,
        `let onnx = "";`,
        `try {`,
        `  const { OnnxMainThread, linearRegressionOnnx } = await import("chapkit/onnx");`,
        `  const model = linearRegressionOnnx({ weights: [1], bias: 0 });`,
        `  await new OnnxMainThread().run({ modelKey: "m", model, inputs: [{ data: Float32Array.from([1]), dims: [1, 1] }] });`,
        `} catch (error) { onnx = error.message; }`,
        `console.log(JSON.stringify({ builtin: page.includes("/docs/openapi-page.js"), script: script.status, scalar: scalar.status, onnx }));`,
        ``,
      ].join("\n"),
    );
    const { stdout } = await run(["bun", "bare.ts"], { cwd: app });
    const answer = JSON.parse(stdout.trim().split("\n").pop()!) as { builtin: boolean; script: number; scalar: number; onnx: string };
    expect(answer).toEqual({ builtin: true, script: 200, scalar: 404, onnx: expect.stringContaining("bun add onnxruntime-web") });
  }, 60_000);

  test("the optional peers install beside it", async () => {
    const peers = ["onnxruntime-web", "@scalar/api-reference"].map((name) => `${name}@${pkg.peerDependencies[name]}`);
    await run(["bun", "add", ...peers], { cwd: app });
    expect(existsSync(join(app, "node_modules", "onnxruntime-web"))).toBe(true);
  }, 300_000);

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
