import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

describe("docs UI with hostile service info", () => {
  it("shows the info as text and runs none of it", { timeout: 60_000 }, async () => {
    const hostile = "Evil</title><script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">";
    const service = await new ServiceBuilder({ info: { display_name: hostile } }).build();
    const server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await blockInternet(page);
      await page.goto(`http://127.0.0.1:${server.port}/docs`);
      assert.equal(await page.title(), hostile);
      assert.equal(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned), undefined);
      await page.close();
    } finally {
      await browser.close();
      await server.stop(1000);
      await service.chapkit.close();
    }
  });
});

describe("docs UI in Chromium without internet", () => {
  let browser: Browser;
  let service: ServiceApp;
  let server: RunningServer;

  before(async () => {
    service = await new ServiceBuilder({ info: { display_name: "Offline Docs Service", version: "9.8.7" } })
      .withHealth()
      .withSystem()
      .build();
    server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await server.stop(1000);
    await service.chapkit.close();
  });

  it("renders the API title and asks no other host for anything", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const blocked = await blockInternet(page);
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const scripts: number[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/docs/scalar.js")) scripts.push(response.status());
    });
    await page.goto(`http://127.0.0.1:${server.port}/docs`);
    await page.getByText("Offline Docs Service").first().waitFor({ timeout: 30_000 });
    await page.getByText("/api/v1/health").first().waitFor({ timeout: 30_000 });
    assert.deepEqual(scripts, [200]);
    assert.deepEqual(blocked, []);
    assert.deepEqual(violations, []);
    await page.close();
  });

  it("lists the service's operations", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    await blockInternet(page);
    await page.goto(`http://127.0.0.1:${server.port}/docs`);
    await page.getByText("/api/v1/health").first().waitFor({ timeout: 30_000 });
    assert.ok(await page.getByText("Health check").first().isVisible());
    assert.ok(await page.getByText("/api/v1/system").first().isVisible());
    await page.close();
  });
});
