/** `examples/library_usage.ts` runs as a real process of this runtime, on SQLite and on PostgreSQL. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { DATABASE_URL, RUNTIME } from "../_support/stores.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const EXAMPLE = fileURLToPath(new URL("../../examples/library_usage.ts", import.meta.url).href);

function runExample(databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = RUNTIME === "deno" ? ["run", "-A", EXAMPLE] : [EXAMPLE];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Uint8Array) => (stdout += new TextDecoder().decode(chunk)));
    child.stderr.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
  });
}

const EXPECTED = [
  /^migrations applied: entity:sites#1, entity:readings#1$/m,
  /^created sites: Oslo, Lusaka, Bergen$/m,
  /^oslo id [0-7][0-9A-HJKMNP-TV-Z]{25}, created_at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m,
  /^created readings: 4$/m,
  /^north sites by name: Bergen, Oslo$/m,
  /^readings above 3, highest first: 27.5, 4.25, 3.5$/m,
  /^page 1 of sites \(size 2\): 2 items, total 3, pages 2$/m,
  /^updated: Lusaka Central, tags capital, updated_at moved: true$/m,
  /^duplicate name refused: 409 Resource Conflict$/m,
  /^invalid body refused: 422 .*"loc":\["body","name"\].*"type":"missing"/m,
  /^unknown id: 404 Entity with id 01K72P5N5KCRM6MD3BRE4P0999 not found$/m,
  /^malformed id: 400 Invalid ULID format: 01k72p5n5kcrm6md3bre4p0999$/m,
  /^transaction rolled back: nothing left behind$/m,
  /^deleted Oslo; its readings went with it: 1 reading\(s\) left$/m,
  /^done$/m,
];

describe("examples/library_usage.ts", () => {
  for (const [store, url, dialect] of [["in-memory SQLite", "sqlite::memory:", "sqlite"], ["PostgreSQL", DATABASE_URL, "postgres"]]) {
    it(`runs to completion on ${store}, printing what it did`, async () => {
      const { code, stdout, stderr } = await runExample(url!);
      assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
      assert.match(stdout, new RegExp(`^store: ${dialect} `, "m"));
      for (const line of EXPECTED) assert.match(stdout, line);
    });
  }
});
