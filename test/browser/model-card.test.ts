import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Browser } from "playwright-core";
import { functionalRunner } from "../../src/modules/ml/engine/functional-runner.ts";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import { call, json } from "../_support/http.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

describe("model card in Chromium", () => {
  let browser: Browser;
  let service: ServiceApp;
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), "chapkit-card-"));

  before(async () => {
    service = await new MLServiceBuilder({
      info: {
        display_name: "Dengue model",
        version: "2.1.0",
        description: "Weekly dengue cases from rainfall",
        author: "Modelling Team",
        author_assessed_status: "orange",
        organization: "Example Institute",
        citation_info: "Doe et al. (2025)",
        contact_email: "team@example.org",
      },
      configSchema: Type.Object({ factor: Type.Number() }, { title: "DengueConfig" }),
      runner: functionalRunner<{ factor: number }, { factor: number }>({
        inputColumns: ["rainfall"],
        onTrain: ({ config }) => ({ factor: config.factor }),
        onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("rainfall").map((v) => v * model.factor)),
      }),
      logging: false,
    }).withSettings({ env: {} }).build();
    const config = await json(await call(service, "POST", "/api/v1/config", { name: "dengue", data: { factor: 3 } }), 201);
    const job = await json(await call(service, "POST", "/api/v1/ml/$train", { config_id: config.id, data: { columns: ["rainfall"], data: [[1]] } }), 202);
    for (let i = 0; i < 500; i++) {
      const record = await json(await call(service, "GET", `/api/v1/jobs/${job.job_id}`), 200);
      if (record.status === "completed") break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await json(await call(service, "PUT", "/api/v1/models/dengue/aliases/champion", { version: "1.0.0" }), 200);
    server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await server.stop(1000);
    await service.chapkit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the card with its badge and registry, and the predict form renders a prediction", { timeout: 30_000 }, async () => {
    const page = await browser.newPage();
    await blockInternet(page);
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector("#registry tbody tr");
    assert.equal(await page.textContent("#name"), "Dengue model");
    assert.equal(await page.getAttribute("#badge", "data-status"), "orange");
    assert.equal(await page.$eval("#badge", (node) => getComputedStyle(node).backgroundColor), "rgb(194, 65, 12)");
    const facts = (await page.textContent("#facts")) ?? "";
    for (const text of ["Modelling Team", "Example Institute", "Doe et al. (2025)", "team@example.org"]) assert.ok(facts.includes(text), facts);
    assert.match((await page.textContent("#registry")) ?? "", /dengue\s*1\.0\.0\s*active\s*champion/);
    await page.waitForSelector("#examples button");
    assert.match((await page.textContent("#schema")) ?? "", /factor/);
    await page.waitForSelector("#jobs tbody tr");
    const shot = join(dir, "card.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 1000);
    await page.fill('input[name="rainfall"]', "7");
    await page.click('#predict button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById("result")?.textContent ?? "").includes("sample_0"));
    assert.equal(await page.textContent("#result"), "dengue 1.0.0: sample_0 = 21");
    await page.close();
  });
});
