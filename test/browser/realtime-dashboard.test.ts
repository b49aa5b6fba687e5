/**
 * examples/realtime_dashboard.ts in headless Chromium: the page follows the
 * readings' subscription and shows each committed reading, the count and
 * the mean, without reloading and without any external request.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { createDashboard } from "../../examples/realtime_dashboard.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

describe("the real-time dashboard example", () => {
  let browser: Browser;
  let service: ServiceApp;
  let server: RunningServer;

  before(async () => {
    service = await createDashboard("sqlite::memory:").withSettings({ env: {} }).build();
    server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop(1000);
    await service?.chapkit.close();
  });

  it("shows readings as they are committed, with the count and the mean", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const blocked = await blockInternet(page);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${server.port}/dashboard`);
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "live", undefined, { timeout: 15_000 });

    const post = (body: unknown): Promise<Response> =>
      fetch(`http://127.0.0.1:${server.port}/api/v1/readings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal((await post({ station: "north", value: 20 })).status, 201);
    assert.equal((await post({ station: "south", value: 23 })).status, 201);
    assert.equal((await post({ station: "", value: 1 })).status, 422);

    await page.waitForFunction(() => document.getElementById("count")?.textContent === "2", undefined, { timeout: 15_000 });
    assert.equal(await page.textContent("#mean"), "21.50");
    const rows = await page.$$eval("#rows tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 2).map((td) => td.textContent)));
    assert.deepEqual(rows, [["south", "23"], ["north", "20"]]);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    await page.screenshot({ path: `${process.env.TMPDIR ?? "/tmp"}/chapkit-realtime-dashboard.png` });
    await page.close();
  });
});
