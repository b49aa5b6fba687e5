import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { RUNTIME } from "../../_support/stores.ts";
import { BASIC_FUTURE, BASIC_TRAINING, formula, type Json, WEATHER_FUTURE, WEATHER_TRAINING } from "./_support.ts";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url).href);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

interface Running {
  child: ChildProcess;
  base: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts an example as its own process on a free port, in-memory SQLite, and waits for its health. */
async function start(file: string): Promise<Running> {
  const port = await freePort();
  const args = RUNTIME === "bun" ? [EXAMPLES + file] : ["run", "-A", EXAMPLES + file];
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), NO_COLOR: "1" };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  child.stderr!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`${file} exited early: ${output}`);
    try {
      if ((await fetch(`${base}/api/v1/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      assert.fail(`${file} did not answer within 60 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, base, output: () => output, exited };
}

async function send(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) as Json : {} };
}

async function finishedJob(base: string, id: string): Promise<Json> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { body } = await send(base, "GET", `/api/v1/jobs/${id}`);
    if (["completed", "failed", "canceled"].includes(String(body.status))) return body;
    assert.ok(Date.now() < deadline, `job ${id} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** health → config → $train → poll → $predict → poll → prediction artifact; returns the predictions. */
async function roundTrip(base: string, training: unknown, future: unknown): Promise<{ columns: string[]; data: number[][] }> {
  const health = await send(base, "GET", "/api/v1/health");
  assert.deepEqual(health.body, { status: "healthy", checks: { database: { state: "healthy" } } });
  const config = await send(base, "POST", "/api/v1/config", { name: "example", data: {} });
  assert.equal(config.status, 201, JSON.stringify(config.body));
  const trained = await send(base, "POST", "/api/v1/ml/$train", { config_id: config.body.id, data: training });
  assert.equal(trained.status, 202, JSON.stringify(trained.body));
  const trainJob = await finishedJob(base, String(trained.body.job_id));
  assert.equal(trainJob.status, "completed", String(trainJob.error));
  const predicted = await send(base, "POST", "/api/v1/ml/$predict", {
    model_artifact_id: trained.body.model_artifact_id,
    future,
  });
  assert.equal(predicted.status, 202, JSON.stringify(predicted.body));
  const predictJob = await finishedJob(base, String(predicted.body.job_id));
  assert.equal(predictJob.status, "completed", String(predictJob.error));
  const artifact = await send(base, "GET", `/api/v1/artifacts/${predicted.body.prediction_artifact_id}`);
  assert.equal(artifact.status, 200);
  assert.equal(artifact.body.parent_id, trained.body.model_artifact_id);
  return (artifact.body.data as Json).predictions as { columns: string[]; data: number[][] };
}

async function stop(running: Running): Promise<void> {
  running.child.kill("SIGTERM");
  const code = await running.exited;
  // Deno's child_process reports null (the signal it sent) even after a clean exit.
  assert.equal(code, RUNTIME === "deno" ? null : 0, running.output());
}

function assertSample0(frame: { columns: string[]; data: number[][] }, expected: (row: number[]) => number, relative: number): void {
  const at = frame.columns.indexOf("sample_0");
  assert.ok(at >= 0);
  for (const row of frame.data) {
    const want = expected(row);
    assert.ok(Math.abs(row[at]! - want) <= relative * Math.max(1, Math.abs(want)), `${row[at]} vs ${want}`);
  }
}

describe("the ML examples as processes", () => {
  test("ml_basic serves health and a train/predict round trip, and stops on SIGTERM", async () => {
    const running = await start("ml_basic.ts");
    try {
      const frame = await roundTrip(running.base, BASIC_TRAINING, BASIC_FUTURE);
      assertSample0(frame, ([r, t]) => formula(r!, t!), 1e-6);
    } finally {
      await stop(running);
    }
  });

  test("ml_onnx serves health and a train/predict round trip through its worker pool, and stops on SIGTERM", async () => {
    const running = await start("ml_onnx.ts");
    try {
      const frame = await roundTrip(running.base, BASIC_TRAINING, BASIC_FUTURE);
      assertSample0(frame, ([r, t]) => formula(r!, t!), 1e-5);
    } finally {
      await stop(running);
    }
  });

  test("ml_class serves health and a train/predict round trip, and stops on SIGTERM", async () => {
    const running = await start("ml_class.ts");
    try {
      const frame = await roundTrip(running.base, WEATHER_TRAINING, WEATHER_FUTURE);
      assertSample0(frame, ([r, t, h]) => formula(r!, t!, h!), 1e-6);
    } finally {
      await stop(running);
    }
  });

  test("ml_shell serves health and a train/predict round trip through its scripts, and stops on SIGTERM", async () => {
    const running = await start("ml_shell.ts");
    try {
      const frame = await roundTrip(running.base, WEATHER_TRAINING, WEATHER_FUTURE);
      assertSample0(frame, ([r, t, h]) => formula(r!, t!, h!), 1e-6);
    } finally {
      await stop(running);
    }
  });
});
