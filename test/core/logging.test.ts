/** The default log sink: stderr lines written in order, whole, soon, and at exit. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { RUNTIME } from "../_support/stores.ts";

const LOGGING = new URL("../../src/core/logging.ts", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "chapkit-logging-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a script in a subprocess of this runtime; resolves with its stderr once it exits, or at `until`. */
function runScript(body: string, until?: RegExp): Promise<{ stderr: string; code: number | null; early: boolean }> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, `import { createLogger } from ${JSON.stringify(LOGGING)};\n${body}\n`);
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", file] : [file], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  return new Promise((resolve) => {
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr += chunk;
      if (until && until.test(stderr)) {
        resolve({ stderr, code: null, early: true });
        child.kill("SIGKILL");
      }
    });
    child.on("close", (code) => resolve({ stderr, code, early: false }));
  });
}

describe("default log sink (stderr)", () => {
  test("writes every line whole and in order, long lines and non-ASCII text included, and the rest at exit", async () => {
    const { stderr, code } = await runScript(`
      const log = createLogger({ level: "info" });
      log.info("first", { text: "café ✓ 𝄞", control: "a\\nb" });
      for (let i = 0; i < 3000; i++) log.info("many", { i, pad: "é".repeat(i % 40) });
      log.info("long", { value: "x".repeat(200_000) });
      log.info("last", { n: 1 });
      process.exit(0);
    `);
    assert.equal(code, 0);
    const lines = stderr.trimEnd().split("\n").map((line) => line.replace(/^\S+ /, ""));
    assert.equal(lines.length, 3003);
    assert.equal(lines[0], '[info ] first text=café ✓ 𝄞 control=a\\nb');
    for (let i = 0; i < 3000; i++) assert.equal(lines[i + 1], `[info ] many i=${i} pad=${"é".repeat(i % 40)}`);
    assert.equal(lines[3001], `[info ] long value=${"x".repeat(200_000)}`);
    assert.equal(lines[3002], "[info ] last n=1");
  });

  test("a line reaches stderr soon, without waiting for more lines or the exit", async () => {
    const { stderr, early } = await runScript(`
      const log = createLogger({ level: "info" });
      log.info("alone", { n: 1 });
      setTimeout(() => {}, 20_000);
    `, /alone n=1\n/);
    assert.ok(early, "the line was written while the process was still running");
    assert.match(stderr, /\[info \] alone n=1\n$/);
  });
});
