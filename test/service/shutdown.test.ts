import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runtimeName } from "../../src/runtime/runtime.ts";

const script = fileURLToPath(new URL("./_shutdown-server.ts", import.meta.url).href);

interface Child {
  process: ChildProcess;
  port: number;
  output: () => string;
  /** Exit code; Deno's child_process reports null (the signal it sent) even after a clean exit. */
  exited: Promise<number | null>;
}

function start(databaseUrl: string): Promise<Child> {
  const args = runtimeName() === "deno" ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "info", LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stderr!.on("data", (chunk) => {
    stdout += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${stdout}`)), 15_000);
    child.stdout!.on("data", (chunk) => {
      stdout += String(chunk);
      const match = /READY (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, port: Number(match[1]), output: () => stdout, exited });
      }
    });
    child.on("exit", () => reject(new Error(`service exited early: ${stdout}`)));
  });
}

describe("graceful shutdown", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-shutdown-"));
  const databaseUrl = `sqlite:${join(dir, "service.db")}`;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finishes an in-flight request, runs shutdown hooks and keeps written data across a restart", async () => {
    const first = await start(databaseUrl);
    const base = `http://127.0.0.1:${first.port}`;
    const created = await fetch(`${base}/api/v1/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "survives" }),
    });
    assert.equal(created.status, 201);
    const { id } = await created.json();

    const inFlight = fetch(`${base}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    first.process.kill("SIGTERM");
    const slow = await inFlight;
    assert.equal(slow.status, 200);
    assert.deepEqual(await slow.json(), { done: true });
    assert.notEqual(await first.exited, 1);
    assert.match(first.output(), /SHUTDOWN_HOOK/);
    assert.match(first.output(), /"event":"service.stopped"/);

    const second = await start(databaseUrl);
    const res = await fetch(`http://127.0.0.1:${second.port}/api/v1/notes/${id}`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).title, "survives");
    second.process.kill("SIGINT");
    assert.notEqual(await second.exited, 1);
    assert.match(second.output(), /"event":"service.stopped"/);
  });
});
