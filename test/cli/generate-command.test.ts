import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tableName } from "../../src/cli/generate/entity.ts";
import { runtimeName } from "../../src/runtime/runtime.ts";
import { ROOT, runCaptured } from "./_cli.ts";

/** Runs the generated test file with this runtime's test runner. */
function runTests(file: string, cwd: string): Promise<{ code: number | null; out: string }> {
  const args = runtimeName() === "deno" ? ["test", "-A", "--no-check", file] : ["test", file];
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk) => void (out += String(chunk)));
  child.stderr!.on("data", (chunk) => void (out += String(chunk)));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out })));
}

describe("chapkit generate entity", () => {
  // Inside the repository, so "chapkit" and "chapkit/testing" resolve to these sources.
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-generate-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a defineEntity definition and a test that passes against withEntity", async () => {
    const run = await runCaptured(["generate", "entity", "lab_result", "code:string:unique", "value:number", "note:text?", "taken:datetime?"], dir);
    assert.equal(run.code, 0, run.stderr);
    const source = readFileSync(join(dir, "entities", "lab_results.ts"), "utf8");
    assert.match(source, /export const LabResult = defineEntity\(\{\n {2}table: "lab_results",/);
    assert.match(source, /code: field\(Type\.String\(\), \{ unique: true \}\),/);
    assert.match(source, /note: Type\.Optional\(Type\.String\(\)\),/);
    const tests = await runTests(join("entities", "lab_results.test.ts"), dir);
    assert.equal(tests.code, 0, tests.out);
  });

  it("takes the fields from a JSON Schema with --from", async () => {
    writeFileSync(join(dir, "sample.json"), JSON.stringify({
      type: "object",
      required: ["label", "count"],
      properties: { id: { type: "string" }, label: { type: "string" }, count: { type: "integer" }, at: { type: "string", format: "date-time" }, meta: { type: "object" } },
    }));
    const run = await runCaptured(["generate", "entity", "sample", "--from", "sample.json"], dir);
    assert.equal(run.code, 0, run.stderr);
    const source = readFileSync(join(dir, "entities", "samples.ts"), "utf8");
    assert.match(source, /label: Type\.String\(\),\n {4}count: Type\.Integer\(\),\n {4}at: Type\.Optional\(Type\.String\(\{ format: "date-time" \}\)\),\n {4}meta: Type\.Optional\(Type\.Object/);
    assert.doesNotMatch(source, / id: /);
    const tests = await runTests(join("entities", "samples.test.ts"), dir);
    assert.equal(tests.code, 0, tests.out);
  });

  it("refuses an unknown type, a bad name and overwriting, with exit 2", async () => {
    const unknown = await runCaptured(["generate", "entity", "thing", "size:huge"], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown type "huge"/);
    const badName = await runCaptured(["generate", "entity", "thing", "Size:int"], dir);
    assert.equal(badName.code, 2);
    const again = await runCaptured(["generate", "entity", "lab_result", "code:string"], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists \(use --force/);
  });

  it("names tables with a plural", () => {
    assert.deepEqual(["note", "box", "study", "labResult"].map(tableName), ["notes", "boxes", "studies", "lab_results"]);
  });
});

describe("chapkit generate module", () => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-module-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a module folder on the public entry whose generated test passes", async () => {
    const run = await runCaptured(["generate", "module", "stock_item"], dir);
    assert.equal(run.code, 0, run.stderr);
    for (const file of ["schema.ts", "store.ts", "manager.ts", "routes.ts", "mod.ts", "stock_item.test.ts"]) {
      const source = readFileSync(join(dir, "modules", "stock_item", file), "utf8");
      assert.doesNotMatch(source, /from "\.\.?\/.*src\//, `${file} imports only public entries`);
    }
    assert.match(readFileSync(join(dir, "modules", "stock_item", "mod.ts"), "utf8"), /export function stockItemModule\(/);
    const tests = await runTests(join("modules", "stock_item", "stock_item.test.ts"), dir);
    assert.equal(tests.code, 0, tests.out);
    const again = await runCaptured(["generate", "module", "stock_item"], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists \(use --force/);
    const bad = await runCaptured(["generate", "module", "Bad-Name"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must be lower case/);
  });
});
