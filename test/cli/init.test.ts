import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TEMPLATES } from "../../src/cli/init/templates.ts";
import { CLI_VERSION } from "../../src/cli/version.ts";
import { ROOT, runCaptured } from "./_cli.ts";

const COMMON = [".gitignore", "Dockerfile", "README.md", "compose.yml", "main.test.ts", "main.ts"];

describe("chapkit init", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-init-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const read = (...path: string[]): string => readFileSync(join(dir, ...path), "utf8");

  it("writes main.ts, its test, the manifest, Dockerfile, compose.yml, .gitignore and README for every template and runtime", async () => {
    for (const template of TEMPLATES) {
      for (const runtime of ["bun", "deno"]) {
        const name = `${template.name}-${runtime}`;
        const run = await runCaptured(["init", name, "-t", template.name, "-r", runtime, "--no-install"], dir);
        assert.equal(run.code, 0, run.stderr);
        for (const file of [...COMMON, runtime === "bun" ? "package.json" : "deno.json"]) {
          assert.ok(existsSync(join(dir, name, file)), `${name}/${file}`);
        }
        assert.match(read(name, "main.ts"), /from "chapkit"/);
        assert.match(read(name, "main.ts"), /export function createService/);
        assert.match(read(name, "compose.yml"), /image: postgres:17/);
        assert.match(read(name, "compose.yml"), /DATABASE_URL: postgres:\/\/chapkit:chapkit@db:5432\//);
      }
    }
    assert.ok(existsSync(join(dir, "ml-shell-bun", "scripts", "train.py")));
    assert.match(read("ml-shell-bun", "Dockerfile"), /apt-get install -y --no-install-recommends python3/);
    assert.match(read("chap-bun", "main.ts"), /profile: "chap"/);
    assert.match(read("chap-bun", "main.ts"), /id: "chap-bun"/);
    assert.match(read("chap-bun", "main.ts"), /period_type: "monthly"/);
    assert.match(read("chap-bun", "README.md"), /chapkit test --url URL --profile chap/);
  });

  it("depends on this version of the npm package by default: package.json on Bun, npm: in deno.json on Deno", () => {
    const pkg = JSON.parse(read("basic-bun", "package.json")) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies.chapkit, `^${CLI_VERSION}`);
    const deno = JSON.parse(read("basic-deno", "deno.json")) as { imports: Record<string, string> };
    assert.equal(deno.imports.chapkit, `npm:chapkit@^${CLI_VERSION}`);
    assert.ok(!existsSync(join(dir, "basic-deno", "package.json")));
  });

  it("lists the optional peers a template loads (onnxruntime-web for onnx), and maps chapkit's subpath entries on Deno", () => {
    const bun = JSON.parse(read("onnx-bun", "package.json")) as { dependencies: Record<string, string> };
    assert.ok(bun.dependencies["onnxruntime-web"]);
    const deno = JSON.parse(read("onnx-deno", "deno.json")) as { imports: Record<string, string> };
    assert.equal(deno.imports["onnxruntime-web"], `npm:onnxruntime-web@${bun.dependencies["onnxruntime-web"]}`);
    assert.equal(deno.imports["chapkit/"], `npm:chapkit@^${CLI_VERSION}/`);
  });

  it("depends on a tarball by file:, and on Deno resolves it from node_modules", async () => {
    const tarball = join(dir, "chapkit-9.9.9.tgz");
    writeFileSync(tarball, "");
    for (const runtime of ["bun", "deno"]) {
      const run = await runCaptured(["init", `tgz-${runtime}`, "-r", runtime, "--chapkit", tarball, "--no-install"], dir);
      assert.equal(run.code, 0, run.stderr);
      const pkg = JSON.parse(read(`tgz-${runtime}`, "package.json")) as { dependencies: Record<string, string> };
      assert.equal(pkg.dependencies.chapkit, `file:${tarball}`);
    }
    assert.deepEqual(JSON.parse(read("tgz-deno", "deno.json")).nodeModulesDir, "manual");
  });

  it("maps chapkit to a source checkout's mod.ts on Deno, with its import map, and the project's test passes", async () => {
    const run = await runCaptured(["init", "from-source", "-r", "deno", "-t", "basic", "--chapkit", ROOT, "--no-install"], dir);
    assert.equal(run.code, 0, run.stderr);
    const deno = JSON.parse(read("from-source", "deno.json")) as { imports: Record<string, string> };
    assert.equal(deno.imports.chapkit, `${ROOT.replace(/\/$/, "")}/mod.ts`);
    assert.equal(deno.imports.elysia, JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).imports.elysia);
    const test = spawnSync("deno", ["test", "-A", "--no-check"], {
      cwd: join(dir, "from-source"),
      encoding: "utf8",
      env: { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`, NO_COLOR: "1" },
    });
    assert.equal(test.status, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /4 passed/);
  });

  it("refuses an invalid name and a non-empty directory with exit 2, leaving what is there", async () => {
    const invalid = await runCaptured(["init", "Bad Name", "--no-install"], dir);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /must be lowercase/);
    writeFileSync(join(dir, "basic-bun", "main.ts"), "// mine\n");
    const taken = await runCaptured(["init", "basic-bun", "--no-install"], dir);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /exists and is not empty/);
    assert.equal(read("basic-bun", "main.ts"), "// mine\n");
  });

  it("renders a template package: template/, then template-<runtime>/, _gitignore and placeholders", async () => {
    const pkg = join(dir, "starter");
    mkdirSync(join(pkg, "template"), { recursive: true });
    mkdirSync(join(pkg, "template-bun"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "chapkit-template-starter", version: "1.0.0" }));
    writeFileSync(join(pkg, "template", "main.ts"), `// {{title}} on {{runtime}}\nimport "chapkit";\n`);
    writeFileSync(join(pkg, "template", "_gitignore"), "node_modules/\n");
    writeFileSync(join(pkg, "template", "README.md"), "generic\n");
    writeFileSync(join(pkg, "template-bun", "README.md"), "# {{name}} needs chapkit {{chapkitDependency}}\n");
    const run = await runCaptured(["init", "from-package", "-t", pkg, "--no-install"], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(read("from-package", "main.ts"), `// From Package on bun\nimport "chapkit";\n`);
    assert.equal(read("from-package", ".gitignore"), "node_modules/\n");
    assert.equal(read("from-package", "README.md"), `# from-package needs chapkit ^${CLI_VERSION}\n`);
  });

  it("names a template package that cannot be fetched, or that has no template/ folder, and exits 1", async () => {
    const missing = await runCaptured(["init", "nothing", "-t", join(dir, "no-such-template"), "--no-install"], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot fetch template package/);
    const plain = join(dir, "plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "package.json"), JSON.stringify({ name: "plain", version: "1.0.0" }));
    const notTemplate = await runCaptured(["init", "plain-project", "-t", plain, "--no-install"], dir);
    assert.equal(notTemplate.code, 1);
    assert.match(notTemplate.stderr, /has no template\/ folder/);
  });
});
