import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { isSecretVariable, minimalEnvironment, runCommand, scriptEnvironment } from "../../src/runtime/subprocess.ts";

const dir = mkdtempSync(join(tmpdir(), "chapkit-subprocess-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether the process still runs (a zombie waiting for a parent that never reaps it does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether the process is gone within a second (a kill is delivered asynchronously). */
async function ends(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !alive(pid);
}

describe("runCommand", () => {
  test("captures stdout, stderr and the exit code with exactly the environment given", async () => {
    const result = await runCommand('echo "out $ONLY"; echo err >&2; echo "db=${DATABASE_URL:-none}"; exit 3', {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ONLY: "this" },
    });
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, "out this\ndb=none\n");
    assert.equal(result.stderr, "err\n");
    assert.equal(result.stdoutTruncated, false);
  });

  test("a timeout kills a background child that holds stdout after the shell has exited", async () => {
    const pidFile = join(dir, "background.pid");
    const started = Date.now();
    const result = await runCommand(`sleep 6 & echo $! > ${pidFile}; echo x`, {
      env: minimalEnvironment(),
      timeoutMs: 300,
    });
    assert.ok(Date.now() - started < 300 + 1_000, `took ${Date.now() - started} ms`);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, -9);
    assert.equal(result.stdout, "x\n");
    assert.equal(await ends(Number(readFileSync(pidFile, "utf8"))), true);
  });

  test("an abort terminates the whole process group, background children included", async () => {
    const pidFile = join(dir, "aborted.pid");
    const controller = new AbortController();
    const run = runCommand(`sleep 30 & echo $! > ${pidFile}; wait`, { env: minimalEnvironment(), signal: controller.signal });
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const result = await run;
    assert.equal(result.aborted, true);
    assert.equal(await ends(Number(readFileSync(pidFile, "utf8"))), true);
  });

  test("children left running after the command ends are killed with it", async () => {
    const pidFile = join(dir, "stray.pid");
    const result = await runCommand(`sleep 30 > /dev/null 2>&1 & echo $! > ${pidFile}`, { env: minimalEnvironment() });
    assert.equal(result.exitCode, 0);
    assert.equal(await ends(Number(readFileSync(pidFile, "utf8"))), true);
  });

  test("stdout and stderr are capped separately and say so", async () => {
    const result = await runCommand("head -c 5000 /dev/zero | tr '\\0' a; head -c 10 /dev/zero | tr '\\0' b >&2", {
      env: minimalEnvironment(),
      maxOutputBytes: 1000,
    });
    assert.equal(result.stdout, "a".repeat(1000));
    assert.equal(result.stdoutTruncated, true);
    assert.equal(result.stderr, "b".repeat(10));
    assert.equal(result.stderrTruncated, false);
  });
});

describe("environments", () => {
  test("a shell task sees PATH, HOME, LANG and what is declared, nothing else", () => {
    const env = minimalEnvironment({ GREETING: "hi" });
    assert.deepEqual(Object.keys(env).sort(), ["GREETING", "HOME", "LANG", "PATH"]);
  });

  test("ML scripts keep the service's environment minus secrets", () => {
    const names = ["CHAPKIT_SECRET", "DATABASE_URL", "CHAPKIT_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "API_KEY", "PGPASSWORD"];
    for (const name of names) assert.equal(isSecretVariable(name), true, name);
    for (const name of ["R_LIBS", "VIRTUAL_ENV", "CHAPKIT_TEMP_DIR", "PATH"]) assert.equal(isSecretVariable(name), false, name);
    process.env.CHAPKIT_SUBPROCESS_TEST_TOKEN = "t0ps3cret";
    process.env.R_LIBS_SUBPROCESS_TEST = "/opt/r";
    try {
      const env = scriptEnvironment({ EXTRA: "1" });
      assert.equal(env.CHAPKIT_SUBPROCESS_TEST_TOKEN, undefined);
      assert.equal(env.R_LIBS_SUBPROCESS_TEST, "/opt/r");
      assert.equal(env.EXTRA, "1");
    } finally {
      delete process.env.CHAPKIT_SUBPROCESS_TEST_TOKEN;
      delete process.env.R_LIBS_SUBPROCESS_TEST;
    }
  });
});
