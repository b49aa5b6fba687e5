/**
 * The hardening items reproduced through HTTP against a real service process
 * (the runtime running the tests), on a SQLite file and on PostgreSQL.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runtimeName } from "../../src/runtime/runtime.ts";
import { DATABASE_URL, postgresStore, sqliteFileStore, type TestStore } from "../_support/stores.ts";
import { ADMIN_KEY } from "./_server.ts";

const script = fileURLToPath(new URL("./_server.ts", import.meta.url).href);
type Json = Record<string, unknown>;

interface Target {
  child: ChildProcess;
  base: string;
  url: string;
  output: () => string;
}

async function startTarget(store: TestStore): Promise<Target> {
  const db = await store.open();
  await db.close();
  const schema = store.kind === "postgres" ? new URL(store.url()).searchParams.get("search_path") ?? "" : "";
  const databaseUrl = store.kind === "postgres" ? DATABASE_URL : store.url();
  const args = runtimeName() === "deno" ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, PG_SCHEMA: schema, LOG_FORMAT: "console", LOG_LEVEL: "info", CHAPKIT_SECRET: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk) => (output += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${output}`)), 30_000);
    child.stdout!.on("data", (chunk) => {
      output += String(chunk);
      const match = /READY (\d+) (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${match[1]}`, url: match[2]!, output: () => output });
      }
    });
    child.on("exit", () => reject(new Error(`service exited early: ${output}`)));
  });
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`the hardened service over HTTP on ${store.kind}`, () => {
    let target: Target;

    before(async () => {
      target = await startTarget(store);
    });
    after(async () => {
      const exited = new Promise((resolve) => target.child.on("exit", resolve));
      target.child.kill("SIGTERM");
      await exited;
      await store.cleanup();
    });

    const call = (method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; key?: string | null } = {}): Promise<Response> => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== null) headers["x-api-key"] = init.key ?? ADMIN_KEY;
      let body: BodyInit | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      return fetch(`${target.base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    };
    const json = async (response: Response, status: number): Promise<Json> => {
      const text = await response.text();
      assert.equal(response.status, status, text);
      return text ? JSON.parse(text) as Json : {};
    };
    const waitJob = async (id: string): Promise<Json> => {
      for (let i = 0; i < 300; i++) {
        const job = await json(await call("GET", `/api/v1/jobs/${id}`), 200);
        if (job.finished_at) return job;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`job ${id} did not finish`);
    };
    const runTask = async (command: string, extra: Json = {}): Promise<{ job: Json; data: Json; ms: number }> => {
      const task = await json(await call("POST", "/api/v1/tasks", { body: { command, ...extra } }), 201);
      const started = Date.now();
      const { job_id } = await json(await call("POST", `/api/v1/tasks/${task.id}/$execute`), 202);
      const job = await waitJob(String(job_id));
      const ms = Date.now() - started;
      const data = job.artifact_id ? (await json(await call("GET", `/api/v1/artifacts/${job.artifact_id}`), 200)).data as Json : {};
      return { job, data, ms };
    };

    test("1. shell tasks are contained: unlisted commands refused, minimal environment, editors cannot write them", async () => {
      const refused = await json(await call("POST", "/api/v1/tasks", { body: { command: "cat /etc/passwd" } }), 403);
      assert.match(String(refused.detail), /allowlist/);
      const { data } = await runTask("env");
      const names = String(data.stdout).trim().split("\n").map((line) => line.split("=")[0]);
      assert.ok(!names.includes("DATABASE_URL") && !names.includes("PG_SCHEMA"), names.join(","));
      const editor = await json(await call("POST", "/api/v1/auth/keys", { body: { name: "editor", role: "editor" } }), 201);
      await json(await call("POST", "/api/v1/tasks", { key: String(editor.key), body: { command: "env" } }), 403);
    });

    test("2. a timeout ends a task whose background child holds stdout; a canceled task writes no artifact", async () => {
      const { job, data, ms } = await runTask("sleep 6 & echo x", { timeout_seconds: 0.3 });
      assert.equal(job.status, "completed");
      assert.equal(data.exit_code, -9);
      assert.ok(ms < 3_000, `${ms} ms`);
      const before = ((await json(await call("GET", "/api/v1/artifacts?page=1&size=1"), 200)).total) as number;
      const task = await json(await call("POST", "/api/v1/tasks", { body: { command: "sleep 30" } }), 201);
      const { job_id } = await json(await call("POST", `/api/v1/tasks/${task.id}/$execute`), 202);
      for (let i = 0; i < 200 && (await json(await call("GET", `/api/v1/jobs/${job_id}`), 200)).status !== "running"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await json(await call("POST", `/api/v1/jobs/${job_id}/$cancel`), 200);
      assert.equal((await call("DELETE", `/api/v1/jobs/${job_id}`)).status, 204);
      assert.equal((await json(await call("GET", "/api/v1/artifacts?page=1&size=1"), 200)).total, before);
    });

    test("3. a chunked body past the limit is a 413 problem", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ > 64) return controller.close();
          controller.enqueue(chunk);
        },
      });
      const response = await fetch(`${target.base}/api/v1/config`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": ADMIN_KEY },
        body: stream,
        duplex: "half",
      } as RequestInit);
      assert.equal((await json(response, 413)).type, "urn:chapkit:error:payload-too-large");
    });

    test("4. concurrent wrong passwords count as sequential ones; unknown users answer alike; other addresses unaffected", async () => {
      await json(await call("POST", "/api/v1/auth/users", { body: { username: "victim", password: "correct horse battery" } }), 201);
      const login = (username: string, password: string, from: string): Promise<Response> =>
        call("POST", "/api/v1/auth/login", { key: null, body: { username, password }, headers: { "x-forwarded-for": from } });
      const answers = await Promise.all(Array.from({ length: 20 }, () => login("victim", "wrong", "203.0.113.5")));
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [...Array(3).fill(401), ...Array(17).fill(429)]);
      const known = await login("victim", "wrong", "198.51.100.1");
      const unknown = await login("nobody", "wrong", "198.51.100.1");
      assert.equal(known.status, unknown.status);
      assert.equal((await known.text()).replace(/"instance":"[^"]*"/, ""), (await unknown.text()).replace(/"instance":"[^"]*"/, ""));
      assert.equal((await login("victim", "correct horse battery", "192.0.2.77")).status, 200);
    });

    test("5. a key cannot issue a key above its own role", async () => {
      const keymaster = await json(await call("POST", "/api/v1/auth/keys", { body: { name: "km", role: "keymaster" } }), 201);
      await json(await call("POST", "/api/v1/auth/keys", { key: String(keymaster.key), body: { name: "escalated", role: "admin" } }), 403);
    });

    test("6. secret columns and prototype names are unknown fields", async () => {
      for (const query of ["password_hash[startswith]=%24", "sort=password_hash", "fields=id,password_hash", "sort=constructor", "filter=valueOf%20%3D%201"]) {
        const response = await call("GET", `/api/v1/auth/users?${query}`);
        assert.equal(response.status, 400, `${query}: ${await response.clone().text()}`);
        await response.body?.cancel();
      }
    });

    test("7. crafted input answers 4xx: size, forged cursors, media types, depth, cross-site origin", async () => {
      for (let i = 0; i < 3; i++) await json(await call("POST", "/api/v1/config", { body: { name: `c${i}`, data: {} } }), 201);
      await json(await call("GET", "/api/v1/config?page=1&size=10001"), 400);
      const page = await json(await call("GET", "/api/v1/config?limit=1&sort=name"), 200);
      const cursor = String(page.next_cursor);
      await json(await call("GET", `/api/v1/config?limit=1&sort=name&cursor=${cursor.slice(0, -2)}AA`), 400);
      await json(await call("POST", "/api/v1/config", { body: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415);
      await json(await call("POST", "/api/v1/config", { body: `{"name":"d","data":${"[".repeat(80)}${"]".repeat(80)}}` }), 400);
      await json(await call("POST", "/api/v1/config", { body: { name: "csrf", data: {} }, headers: { origin: "https://evil.example" } }), 403);
      await json(await call("POST", "/api/v1/config", { body: { name: "ok-origin", data: {} }, headers: { origin: "https://app.example.org" } }), 201);
    });

    test("8. two concurrent PATCHes with the same ETag: one 200, one 412", async () => {
      const made = await json(await call("POST", "/api/v1/config", { body: { name: "race", data: { n: 0 } } }), 201);
      const read = await call("GET", `/api/v1/config/${made.id}`);
      const etag = read.headers.get("etag")!;
      await read.body?.cancel();
      const answers = await Promise.all([1, 2].map((n) => call("PATCH", `/api/v1/config/${made.id}`, { body: { data: { n } }, headers: { "if-match": etag } })));
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 412]);
      for (const answer of answers) await answer.body?.cancel();
    });

    test("9. headers, escaped pages, escaped logs and the loopback default", async () => {
      const docs = await call("GET", "/docs", { key: null });
      assert.equal(docs.headers.get("x-content-type-options"), "nosniff");
      assert.equal(docs.headers.get("x-frame-options"), "DENY");
      assert.ok(!(await docs.text()).includes("<script>window.pwned"));
      await call("POST", "/api/v1/auth/login", { key: null, body: { username: "x\nFORGED [info ] auth.login outcome=success", password: "p" } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(!target.output().split("\n").some((line) => line.startsWith("FORGED")));
      assert.match(target.url, /^http:\/\/127\.0\.0\.1:/);
    });

    test("10. the docs script is served by the service itself", async () => {
      const script = await call("GET", "/docs/scalar.js", { key: null });
      assert.equal(script.status, 200);
      assert.match(script.headers.get("content-type") ?? "", /javascript/);
      assert.ok((await script.arrayBuffer()).byteLength > 100_000);
    });
  });
}
