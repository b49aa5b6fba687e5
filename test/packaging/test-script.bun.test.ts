import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT, run, scratchDir } from "./_process.ts";

const BOTH_RUNTIMES = [
  `import { test } from "node:test";`,
  `import assert from "node:assert/strict";`,
  `test("adds", () => assert.equal(1 + 1, 2));`,
  `test("concatenates", () => assert.equal("a" + "b", "ab"));`,
  ``,
].join("\n");

const DENO_GROUP_WITH_ONE_FAILURE = [
  `import { describe, it } from "node:test";`,
  `import assert from "node:assert/strict";`,
  `describe("group", () => {`,
  `  it("passes", () => assert.ok(true));`,
  `  describe("inner", () => { it("also passes", () => assert.ok(true)); });`,
  `  it("fails", () => assert.equal(1, 2));`,
  `});`,
  ``,
].join("\n");

const BUN_ONLY = `import { expect, test } from "bun:test";\ntest("has Bun", () => expect(typeof Bun.version).toBe("string"));\n`;

/** Lays out a project holding the real scripts/test.sh and the given test files. */
function fixture(dir: string, files: Record<string, string>): void {
  for (const file of ["scripts/test.sh", "scripts/count-junit.ts"]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fixture", private: true, type: "module" }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

describe("scripts/test.sh", () => {
  const scratch = scratchDir("test-sh");
  afterAll(() => scratch.remove(), 60_000); // removing installed projects takes seconds

  test("sums leaf tests of every runner into a closing 'N passed, N failed' line and exits non-zero on a failure", async () => {
    const dir = join(scratch.path, "mixed");
    fixture(dir, {
      "test/both.test.ts": BOTH_RUNTIMES,
      "test/group.deno.test.ts": DENO_GROUP_WITH_ONE_FAILURE,
      "test/only.bun.test.ts": BUN_ONLY,
      "test/wrong.bun.test.ts": `import { describe, expect, test } from "bun:test";\ndescribe("sums", () => test("are wrong", () => expect(1 + 1).toBe(3)));\n`,
    });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    // bun: 2 + 1 passed, 1 failed; deno check: 1 passed; deno: 2 + 2 leaf steps passed, 1 failed.
    expect(lastLine(result.stdout)).toBe("8 passed, 2 failed");
    expect(result.code).not.toBe(0);
    // The summary names each failed test with its file and runner.
    const summary = result.stdout.slice(result.stdout.lastIndexOf("=== summary"));
    expect(summary).toContain("failed tests:\n");
    expect(summary).toContain("  bun  test/wrong.bun.test.ts: sums > are wrong");
    expect(summary).toContain("  deno  ./test/group.deno.test.ts: group > fails");
  }, 120_000);

  test("names a bun failure once, under its own file, when bun repeats its failures at the end", async () => {
    const dir = join(scratch.path, "recap");
    // With many files, bun prints "N tests failed:" and the failed tests again after the last file.
    const files: Record<string, string> = {
      "test/a.bun.test.ts": `import { expect, test } from "bun:test";\ntest("first file fails", () => expect(1).toBe(2));\n`,
    };
    for (let i = 0; i < 30; i++) files[`test/z${String(i).padStart(2, "0")}.bun.test.ts`] = BUN_ONLY;
    fixture(dir, files);
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    expect(result.code).not.toBe(0);
    const summary = result.stdout.slice(result.stdout.lastIndexOf("=== summary"));
    expect(summary).toContain("  bun  test/a.bun.test.ts: first file fails");
    expect(summary.split("first file fails").length - 1).toBe(1);
  }, 120_000);

  test("exits zero when every runner passes and runs each file on the right runtime", async () => {
    const dir = join(scratch.path, "green");
    fixture(dir, {
      "test/both.test.ts": BOTH_RUNTIMES,
      "test/only.bun.test.ts": BUN_ONLY,
      "test/only.deno.test.ts": `Deno.test("has Deno", () => { if (typeof Deno.version.deno !== "string") throw new Error(); });\n`,
    });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    // bun: 2 + 1; deno check: 1; deno: 2 + 1.
    expect(lastLine(result.stdout)).toBe("7 passed, 0 failed");
    expect(result.code).toBe(0);
  }, 120_000);

  test("keeps running the other runners after one crashes, and counts the crash as a failure", async () => {
    const dir = join(scratch.path, "crash");
    fixture(dir, {
      "test/broken.bun.test.ts": `throw new Error("crashes while loading");\n`,
      "test/only.deno.test.ts": `Deno.test("has Deno", () => {});\n`,
    });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    // bun: crashed, 1 failure; deno check: 1 passed; deno: 1 passed.
    expect(lastLine(result.stdout)).toBe("2 passed, 1 failed");
    expect(result.code).not.toBe(0);
  }, 120_000);

  test("counts a Deno type error as one failure and still runs the Deno tests", async () => {
    const dir = join(scratch.path, "type-error");
    fixture(dir, {
      "test/typed.deno.test.ts": `const n: number = "not a number";\nDeno.test("runs anyway", () => { if (!n) throw new Error(); });\n`,
    });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    // deno check: 1 failed; deno: 1 passed.
    expect(lastLine(result.stdout)).toBe("1 passed, 1 failed");
    expect(result.stdout).toContain("not assignable to type 'number'");
    expect(result.code).not.toBe(0);
  }, 120_000);

  test("stops a runner that hangs after RUNNER_TIMEOUT seconds and keeps the results it printed", async () => {
    const dir = join(scratch.path, "hang");
    fixture(dir, {
      "test/hang.bun.test.ts": [
        `import { expect, test } from "bun:test";`,
        `test("passes first", () => expect(1).toBe(1));`,
        `test("then blocks the event loop", () => { const end = Date.now() + 120_000; while (Date.now() < end) {} }, 300_000);`,
        ``,
      ].join("\n"),
    });
    const started = Date.now();
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false, env: { RUNNER_TIMEOUT: "5" } });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(lastLine(result.stdout)).toBe("1 passed, 1 failed");
    expect(result.stdout).toContain("stopped after 5 s");
    expect(result.code).not.toBe(0);
  }, 120_000);

  test("starts no runner past SUITE_DEADLINE and counts each one it skipped as a failure", async () => {
    const dir = join(scratch.path, "deadline");
    fixture(dir, { "test/both.test.ts": BOTH_RUNTIMES });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false, env: { SUITE_DEADLINE: "0" } });
    // bun, deno check and deno: none started, each counted as failed.
    expect(lastLine(result.stdout)).toMatch(/^0 passed, [1-9]\d* failed$/);
    expect(result.stderr + result.stdout).toContain("suite deadline of 0 s reached");
    expect(result.code).not.toBe(0);
  }, 120_000);

  test("fails a runner whose test files hold no test", async () => {
    const dir = join(scratch.path, "empty");
    fixture(dir, {
      "test/only.deno.test.ts": `Deno.test("has Deno", () => {});\n`,
      "test/empty.bun.test.ts": `export const nothing = 0;\n`,
    });
    const result = await run(["bash", "scripts/test.sh"], { cwd: dir, check: false });
    // bun: no test, 1 failure; deno check: 1 passed; deno: 1 passed.
    expect(lastLine(result.stdout)).toBe("2 passed, 1 failed");
    expect(result.code).not.toBe(0);
  }, 120_000);
});
