/**
 * The README's first example is run as written: extracted from the README,
 * saved beside the repository's import mapping, started as a real process
 * (on an in-memory store and a free port through `DATABASE_URL` and `PORT`),
 * called over HTTP and stopped with SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { RUNTIME } from "../_support/stores.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

/** The first TypeScript block of the README. */
function firstExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error("README has no ```ts block");
  return match[1]!;
}

describe("the README's first example", () => {
  it("is a service of about 20 lines with a custom entity", () => {
    const code = firstExample();
    assert.ok(code.split("\n").filter((line) => line.trim() !== "").length <= 22, code);
    assert.match(code, /defineEntity\(/);
    assert.match(code, /\.withEntity\(Note\)/);
    assert.match(code, /from "chapkit"/);
  });

  it("serves notes as written, and stops on SIGTERM", async () => {
    const dir = join(ROOT, ".tmp");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-${process.pid}-${Date.now()}.ts`);
    writeFileSync(file, firstExample());
    const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", file] : [file], {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_URL: "sqlite::memory:", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Uint8Array): void => {
          output += new TextDecoder().decode(chunk);
          const match = /service\.started url=(http:\/\/\S+)/.exec(output);
          if (match) resolve(match[1]!);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        void closed.then(() => reject(new Error(`exited before serving: ${output}`)));
      });
      const created = await fetch(`${url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "Buy milk" }),
      });
      assert.equal(created.status, 201);
      assert.deepEqual({ ...(await created.json()), id: "", created_at: "", updated_at: "" }, {
        id: "", created_at: "", updated_at: "", title: "Buy milk", body: "", done: false,
      });
      const found = await fetch(`${url}/api/v1/notes?done=false&q=milk&sort=-created_at`);
      assert.deepEqual((await found.json()).map((note: { title: string }) => note.title), ["Buy milk"]);
      const invalid = await fetch(`${url}/api/v1/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "" }),
      });
      assert.equal(invalid.status, 422);
      await invalid.body?.cancel();
    } finally {
      child.kill("SIGTERM");
      await closed;
      rmSync(file, { force: true });
    }
    assert.match(output, /service\.stopped/);
  });
});
