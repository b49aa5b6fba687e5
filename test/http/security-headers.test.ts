import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../src/core/logging.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";

const HOSTILE = `Evil</title><script>window.pwned = 1</script><img src=x onerror="alert(1)">"'`;

describe("security headers and escaped pages", () => {
  let app: ServiceApp;
  let hsts: ServiceApp;

  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: HOSTILE, summary: HOSTILE } }).withLandingPage().withHealth().build();
    hsts = await new ServiceBuilder({ info: { display_name: "HSTS" }, settings: { http: { hstsMaxAge: 31536000 } } }).build();
  });
  after(async () => {
    await app.chapkit.close();
    await hsts.chapkit.close();
  });

  const get = (target: ServiceApp, path: string, init: RequestInit = {}): Promise<Response> =>
    target.handle(new Request(`http://localhost${path}`, init));

  test("every response carries nosniff and a referrer policy, problems and early 413s included", async () => {
    const answers = [
      await get(app, "/api/v1/health"),
      await get(app, "/api/v1/nothing-here"),
      await get(app, "/openapi.json"),
      await get(app, "/api/v1/health", { method: "POST", headers: { "content-length": String(64 * 1024 * 1024) }, body: "x" }),
    ];
    for (const response of answers) {
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", `${response.status}`);
      assert.equal(response.headers.get("referrer-policy"), "no-referrer");
      assert.equal(response.headers.get("strict-transport-security"), null);
      await response.body?.cancel();
    }
  });

  test("pages cannot be framed by another site", async () => {
    for (const path of ["/", "/docs"]) {
      const response = await get(app, path);
      assert.equal(response.headers.get("x-frame-options"), "DENY", path);
      assert.match(response.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
      await response.body?.cancel();
    }
    const docs = await get(app, "/docs");
    assert.match(docs.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    await docs.body?.cancel();
  });

  test("HSTS is sent when configured", async () => {
    const response = await get(hsts, "/openapi.json");
    assert.equal(response.headers.get("strict-transport-security"), "max-age=31536000; includeSubDomains");
    await response.body?.cancel();
  });

  test("service info is HTML-escaped in the docs page", async () => {
    const html = await (await get(app, "/docs")).text();
    assert.ok(!html.includes("<script>window.pwned"), html.slice(0, 400));
    assert.ok(!html.includes("<img src=x"));
    assert.ok(html.includes("Evil&lt;/title&gt;&lt;script&gt;"));
  });
});

describe("console logs cannot be forged", () => {
  test("control characters in values, keys and events are escaped; each entry stays one line", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "console", level: "debug", write: (line) => lines.push(line) });
    log.info("auth.login.failed", { username: "bob\n2026-01-01T00:00:00.000Z [info ] auth.login.succeeded username=admin", note: "a\rb\u001b[31mred\\" });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes("\n") && !lines[0]!.includes("\r") && !lines[0]!.includes("\u001b"));
    assert.ok(lines[0]!.includes("username=bob\\n2026-01-01"));
    assert.ok(lines[0]!.includes("note=a\\rb\\u001b[31mred\\\\"));
  });

  test("event names and keys are escaped every time they are written, while clean ones are passed through", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "console", level: "debug", write: (line) => lines.push(line) });
    for (let i = 0; i < 3; i++) {
      log.info("job.done\nforged [info ] admin.granted", { "user\nid": i, clean_key: "v" });
    }
    assert.equal(lines.length, 3);
    for (const [i, line] of lines.entries()) {
      assert.ok(!line.includes("\n"), line);
      assert.ok(line.includes("job.done\\nforged [info ] admin.granted"), line);
      assert.ok(line.endsWith(`user\\nid=${i} clean_key=v`), line);
    }
  });

  test("long clean keys are written as they are", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "console", level: "debug", write: (line) => lines.push(line) });
    const key = "k".repeat(5000);
    log.info("long.key", { [key]: 1 });
    log.info("long.key", { [key]: 2 });
    assert.ok(lines[0]!.endsWith(`${key}=1`));
    assert.ok(lines[1]!.endsWith(`${key}=2`));
  });
});
