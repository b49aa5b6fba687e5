import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { ServiceClient } from "../../src/cli/conformance/client.ts";
import { detectProfile } from "../../src/cli/conformance/profiles.ts";
import { seedProfile } from "../../src/cli/conformance/seed.ts";
import { serve } from "../../src/runtime/serve.ts";
import { BaseServiceBuilder } from "../../src/service/base-service-builder.ts";
import type { RunningService } from "../../src/service/listen.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import { runner } from "../../examples/ml_basic.ts";
import { runBin, runCaptured, seedService } from "./_cli.ts";

const ML_DATA = {
  train: {
    columns: ["rainfall", "mean_temperature", "disease_cases"],
    data: [[100, 25, 12], [85, 27, 8], [90, 26, 10], [110, 24, 14], [95, 28, 9]],
  },
  predict: { columns: ["rainfall", "mean_temperature"], data: [[100, 25], [90, 27]] },
};

describe("chapkit test", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-cli-test-"));
  let seed: RunningService;
  let ml: RunningService;
  let bare: RunningService;
  let deviating: { url: string; stop(): Promise<void> };

  before(async () => {
    seed = await seedService().listen(0, { hostname: "127.0.0.1", handleSignals: false });
    ml = await new MLServiceBuilder({
      info: { display_name: "CLI ML service" },
      configSchema: Type.Object({}, { title: "MlConfig", additionalProperties: true }),
      runner,
      logging: false,
    }).withSettings({ env: {} }).listen(0, { hostname: "127.0.0.1", handleSignals: false });
    bare = await new BaseServiceBuilder({ info: { display_name: "Health only" }, databaseUrl: "sqlite::memory:" })
      .withHealth()
      .withSettings({ env: {} })
      .listen(0, { hostname: "127.0.0.1", handleSignals: false });
    // The seed service, except that creating a config answers 200 instead of 201.
    const server = await serve(async (request) => {
      const url = new URL(request.url);
      const answer = await seed.app.handle(new Request(`${seed.url}${url.pathname}${url.search}`, request));
      if (request.method === "POST" && url.pathname === "/api/v1/config" && answer.status === 201) {
        return new Response(answer.body, { status: 200, headers: answer.headers });
      }
      return answer;
    }, { port: 0, hostname: "127.0.0.1" });
    deviating = { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(0) };
  });

  after(async () => {
    await deviating.stop();
    await Promise.all([seed.stop(), ml.stop(), bare.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes every seed check of a service with config, artifacts, tasks and jobs, and the executable exits 0", async () => {
    const run = await runBin(["test", "--url", seed.url]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✓ config: POST creates a config/);
    assert.match(run.stdout, /✓ jobs: a task runs as a job to completion/);
    assert.match(run.stdout, /profile seed: 11 passed, 0 failed, 4 skipped/);
  });

  it("exits 1 and names the check when the service deviates from the contract", async () => {
    const run = await runBin(["test", "--url", deviating.url]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /✗ config: POST creates a config/);
    assert.match(run.stdout, /answered 200, expected 201/);
    assert.match(run.stdout, /1 failed/);
  });

  it("removes what its checks created, so the service is left as it was", async () => {
    const before = await (await fetch(`${seed.url}/api/v1/config`)).json() as unknown[];
    const run = await runCaptured(["test", "--url", seed.url]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const configs = await (await fetch(`${seed.url}/api/v1/config`)).json() as unknown[];
    const tasks = await (await fetch(`${seed.url}/api/v1/tasks`)).json() as unknown[];
    const artifacts = await (await fetch(`${seed.url}/api/v1/artifacts`)).json() as unknown[];
    assert.equal(configs.length, before.length);
    assert.deepEqual([tasks.length, artifacts.length], [0, 0]);
  });

  it("runs train then predict with --ml-data against an ML service", async () => {
    const file = join(dir, "ml-data.json");
    writeFileSync(file, JSON.stringify(ML_DATA));
    const run = await runCaptured(["test", "--url", ml.url, "--ml-data", file]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✓ ml: train then predict completes and stores a prediction/);
    assert.match(run.stdout, /✓ ml: \$train with an unknown config is refused/);
  });

  it("skips, and does not fail, the checks of modules a service does not mount", async () => {
    const run = await runCaptured(["test", "--url", bare.url]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /- config: POST creates a config[^\n]*\n\s+the service has no config module/);
    assert.match(run.stdout, /- ml: train then predict/);
  });

  it("prints a machine-readable report with --json", async () => {
    const run = await runCaptured(["test", "--url", bare.url, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { profile: string; failed: number; outcomes: { status: string }[] };
    assert.equal(report.profile, "seed");
    assert.equal(report.failed, 0);
    assert.equal(report.outcomes.length, seedProfile.checks.length);
  });

  it("reports an address that does not answer as one error and exits 1", async () => {
    const run = await runCaptured(["test", "--url", "http://127.0.0.1:1"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /did not answer/);
    assert.equal(run.stdout, "");
  });

  it("refuses an unknown profile as a usage error (exit 2)", async () => {
    const run = await runCaptured(["test", "--url", seed.url, "--profile", "nope"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /Allowed choices are auto, chap, seed/);
  });

  it("--profile auto takes the first profile whose probe recognises the service, else seed", async () => {
    const client = new ServiceClient(seed.url);
    const special = { name: "special", description: "", checks: [], detect: async () => true };
    const never = { name: "never", description: "", checks: [], detect: async () => false };
    assert.equal((await detectProfile(client, [never, special])).name, "special");
    assert.equal((await detectProfile(client, [never])).name, "seed");
  });
});
