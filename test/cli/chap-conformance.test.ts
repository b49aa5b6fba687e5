import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { MLServiceInfo, violations } from "../../src/cli/conformance/chap-models.ts";
import { runtimeName } from "../../src/runtime/runtime.ts";
import type { RunningService } from "../../src/service/listen.ts";
import { ROOT, runBin, seedService } from "./_cli.ts";

type Json = Record<string, unknown>;

/** A child process whose stdout lines are collected and awaited. */
class Child {
  readonly lines: string[] = [];
  readonly #waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(script: string, env: Record<string, string>) {
    const path = fileURLToPath(new URL(script, import.meta.url).href);
    const args = runtimeName() === "deno" ? ["run", "-A", "--no-check", path] : [path];
    this.process = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let buffer = "";
    this.process.stdout!.on("data", (chunk) => {
      buffer += String(chunk);
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        for (const waiter of [...this.#waiters]) {
          if (waiter.match(line)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    });
    this.process.stderr!.on("data", () => {});
    this.exited = new Promise((resolve) => this.process.on("exit", (code) => resolve(code)));
  }

  /** The first line (already printed or to come) that matches, within `timeoutMs`. */
  line(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line in ${timeoutMs} ms; got:\n${this.lines.join("\n")}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (line) => {
        clearTimeout(timer);
        resolve(line);
      } });
    });
  }

  /** The `n`-th JSON event named `event`, once it is printed. */
  async event(event: string, n = 1): Promise<Json> {
    const events = () => this.lines.filter((line) => line.startsWith("{") && (JSON.parse(line) as Json).event === event);
    await this.line(() => events().length >= n);
    return JSON.parse(events()[n - 1]!) as Json;
  }
}

describe("examples/chap_model.ts as a process: registration with a real orchestrator and the chap conformance checks", () => {
  let orchestrator: Child;
  let model: Child;
  let url: string;
  let seed: RunningService;

  before(async () => {
    orchestrator = new Child("./_orchestrator.ts", { REGISTRATION_KEY: "s3cret" });
    const listening = await orchestrator.event("listening");
    model = new Child("../../examples/chap_model.ts", {
      PORT: "0",
      SERVICEKIT_ORCHESTRATOR_URL: `http://127.0.0.1:${listening.port}/v2/services/$register`,
      SERVICEKIT_HOST: "127.0.0.1",
      SERVICEKIT_REGISTRATION_KEY: "s3cret",
      CHAPKIT_REGISTRATION_KEEPALIVE_MS: "100",
      CHAPKIT_REGISTRATION_RE_REGISTER_GRACE_MS: "50",
      LOG_LEVEL: "warn",
    });
    const started = await model.line((line) => line.startsWith("chapkit-linear on "));
    url = started.split(" ")[2]!;
    seed = await seedService().listen(0, { handleSignals: false });
  });

  after(async () => {
    if (model.process.exitCode === null) model.process.kill("SIGKILL");
    orchestrator.process.kill("SIGTERM");
    await orchestrator.exited;
    await seed.stop();
  });

  test("registers with its id, callback URL, key and strict info, serving chap-core's callbacks meanwhile", async () => {
    const register = await orchestrator.event("register");
    const payload = register.payload as Json;
    assert.equal(payload.id, "chapkit-linear");
    assert.equal(payload.url, url);
    assert.equal(register.key, "s3cret");
    assert.deepEqual(violations(MLServiceInfo, payload.info), []);
    assert.deepEqual(register.callbacks, { schema: 200, list: 200, probe: 201, probeDelete: 204 });
  });

  test("pings the returned ping_url with the key and registers again after a 404 ping", async () => {
    const first = await orchestrator.event("ping", 1);
    assert.equal(first.key, "s3cret");
    const again = await orchestrator.event("register", 2);
    assert.equal((again.payload as Json).id, "chapkit-linear");
    const later = await orchestrator.event("ping", 2);
    assert.equal(later.id, "chapkit-linear");
  });

  test("passes every chap check of chapkit test --profile chap, replaying chap-core's calls", async () => {
    const run = await runBin(["test", "--url", url, "--profile", "chap", "--json"]);
    const report = JSON.parse(run.stdout) as { profile: string; failed: number; passed: number; outcomes: { name: string; status: string; message?: string }[] };
    assert.equal(run.code, 0, JSON.stringify(report.outcomes.filter((o) => o.status !== "passed"), null, 2));
    assert.equal(report.profile, "chap");
    assert.equal(report.passed, 11);
  });

  test("picks the chap profile by itself with --profile auto", async () => {
    const run = await runBin(["test", "--url", url, "--json"]);
    assert.equal(run.code, 0, run.stdout);
    assert.equal((JSON.parse(run.stdout) as { profile: string }).profile, "chap");
  });

  test("exits non-zero when a seed-profile service is checked against the chap profile", async () => {
    const run = await runBin(["test", "--url", seed.url, "--profile", "chap", "--json"]);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout) as { outcomes: { name: string; status: string }[] };
    assert.equal(report.outcomes.find((o) => o.name.startsWith("health"))?.status, "failed");
  });

  test("deregisters on SIGTERM and exits cleanly", async () => {
    model.process.kill("SIGTERM");
    const removed = await orchestrator.event("deregister");
    assert.equal(removed.id, "chapkit-linear");
    assert.equal(removed.key, "s3cret");
    // Deno's child_process reports null (the signal it sent) even after a clean exit.
    assert.equal(await model.exited, runtimeName() === "deno" ? null : 0);
  });
});
