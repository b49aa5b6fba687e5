import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runtimeName } from "../../src/runtime/runtime.ts";
import { ROOT } from "./_cli.ts";

const BIN = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url).href);

/** A service stand-in that prints its version and stays up. */
function program(version: number): string {
  return `console.log("VERSION ${version}");\nsetInterval(() => {}, 1000);\n`;
}

describe("chapkit dev", () => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-dev-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("restarts the service when a file changes, reports a crash, and recovers on the next change", async () => {
    writeFileSync(join(dir, "main.ts"), program(1));
    const runtime = runtimeName() === "deno" ? "deno" : "bun";
    const args = runtime === "deno" ? ["run", "-A", "--no-check", BIN] : [BIN];
    const dev = spawn(process.execPath, [...args, "dev", "--runtime", runtime], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let seen = "";
    dev.stdout!.on("data", (chunk) => void (seen += String(chunk)));
    dev.stderr!.on("data", (chunk) => void (seen += String(chunk)));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!pattern.test(seen)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${seen}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    try {
      await waitFor(/VERSION 1/);
      writeFileSync(join(dir, "main.ts"), program(2));
      await waitFor(/main\.ts changed, restarting[\s\S]*VERSION 2/);
      writeFileSync(join(dir, "main.ts"), `throw new Error("broken on purpose");\n`);
      await waitFor(/broken on purpose[\s\S]*exited with code 1; waiting for a change to restart/);
      writeFileSync(join(dir, "main.ts"), program(3));
      await waitFor(/VERSION 3/);
      writeFileSync(join(dir, "notes.db"), "ignored");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(seen.match(/restarting/g)?.length, 3, seen);
    } finally {
      const exited = new Promise((resolve) => dev.on("exit", resolve));
      dev.kill("SIGTERM");
      await exited;
    }
  });
});
