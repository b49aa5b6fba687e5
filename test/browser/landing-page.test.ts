import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

describe("landing page in Chromium", () => {
  let browser: Browser;
  let service: ServiceApp;
  let server: RunningServer;

  before(async () => {
    service = await new ServiceBuilder({
      info: {
        display_name: "Browser Landing Service",
        version: "4.5.6",
        summary: "Shown on the page",
        contact: { email: "team@example.org" },
        organization: "Example Org",
      },
    }).withLandingPage().build();
    server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await server.stop(1000);
    await service.chapkit.close();
  });

  it("renders the display name, version and other info fields", { timeout: 30_000 }, async () => {
    const page = await browser.newPage();
    await blockInternet(page);
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector("h1");
    assert.equal(await page.textContent("h1"), "Browser Landing Service");
    const text = (await page.textContent("#content")) ?? "";
    assert.match(text, /Version\s*4\.5\.6/);
    assert.match(text, /Summary\s*Shown on the page/);
    assert.match(text, /team@example\.org/);
    assert.match(text, /Organization\s*Example Org/);
    await page.close();
  });

  it("shows the failure message when the info cannot be loaded", { timeout: 30_000 }, async () => {
    const page = await browser.newPage();
    await page.route("**/api/v1/info", (route) => route.abort());
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector(".error");
    assert.equal(await page.textContent(".error"), "Failed to load service info");
    await page.close();
  });
});
