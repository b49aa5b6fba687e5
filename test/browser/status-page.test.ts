import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Browser } from "playwright-core";
import { runner } from "../../examples/ml_basic.ts";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import { BASIC_FUTURE, BASIC_TRAINING } from "../modules/ml/_support.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

function sumOf(text: string, prefix: string): number {
  return text.split("\n").filter((line) => line.startsWith(prefix)).reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

async function waitJob(base: string, id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const job = await (await fetch(`${base}/api/v1/jobs/${id}`)).json() as { status: string };
    if (job.status === "completed" || job.status === "failed") return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`job ${id} did not finish`);
}

describe("status page in Chromium", () => {
  let browser: Browser;
  let service: ServiceApp;
  let server: RunningServer;
  let base = "";

  before(async () => {
    service = await new MLServiceBuilder({
      info: { display_name: "Status <Model>" },
      configSchema: Type.Object({}, { additionalProperties: true }),
      runner,
      logging: false,
    }).withMonitoring().build();
    server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
    const config = await post("/api/v1/config", { name: "status", data: {} }) as { id: string };
    const train = await post("/api/v1/ml/$train", { config_id: config.id, data: BASIC_TRAINING }) as { job_id: string; model_artifact_id: string };
    await waitJob(base, train.job_id);
    const predict = await post("/api/v1/ml/$predict", { model_artifact_id: train.model_artifact_id, future: BASIC_FUTURE }) as { job_id: string };
    await waitJob(base, predict.job_id);
    for (let i = 0; i < 5; i++) await fetch(`${base}/api/v1/config/01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop(1000);
    await service?.chapkit.close();
  });

  it("renders health, traffic charts and models from this process, with no external asset", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const blocked = await blockInternet(page);
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    const response = await page.goto(`${base}/status`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "Status <Model>: status");
    assert.deepEqual(blocked, []);
    assert.deepEqual(requested, [`${base}/status`], "the page loaded something besides itself");
    assert.equal(await page.locator("svg").count(), 3);
    assert.ok(await page.locator("svg path").count() >= 1, "no line drawn");
    assert.equal(await page.locator("[data-health]").textContent(), "healthy");
    assert.equal(await page.locator("[data-model]").count(), 1);
    const screenshot = await page.screenshot({ fullPage: true });
    assert.ok(screenshot.byteLength > 10_000, `screenshot of ${screenshot.byteLength} bytes`);

    const shown = async (metric: string): Promise<number> => Number(await page.locator(`[data-metric="${metric}"]`).textContent());
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The page counted every request before its own; /metrics also counts the page.
    assert.equal(sumOf(metrics, "http_server_request_duration_seconds_count{"), (await shown("requests_total")) + 1);
    assert.equal(sumOf(metrics, "chapkit_errors_total{"), await shown("errors_total"));
    assert.equal(sample(metrics, "chapkit_ml_predict_rows_total"), await shown("predict_rows_total"));
    assert.equal(sample(metrics, `chapkit_jobs{status="pending"}`), await shown("jobs_pending"));
    assert.equal(sample(metrics, `chapkit_jobs{status="running"}`), await shown("jobs_running"));
    assert.equal(await shown("errors_total"), 5);
    await page.close();
  });
});
