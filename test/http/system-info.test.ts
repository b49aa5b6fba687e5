import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { infoDocument, infoRoutes } from "../../src/http/info.ts";
import { landingPage } from "../../src/http/landing-page.ts";
import { systemRoutes } from "../../src/http/system.ts";
import { runtimeName, runtimeVersion } from "../../src/runtime/runtime.ts";
import { call } from "./_notes.ts";

describe("system", () => {
  it("answers the contract keys plus runtime and runtime_version", async () => {
    const res = await call(systemRoutes(), "GET", "/api/v1/system");
    assert.deepEqual(Object.keys(res.body), [
      "current_time",
      "timezone",
      "python_version",
      "platform",
      "hostname",
      "runtime",
      "runtime_version",
    ]);
  });

  it("reports the current time in UTC with milliseconds and Z", async () => {
    const res = await call(systemRoutes(), "GET", "/api/v1/system");
    assert.match(res.body.current_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("carries the runtime version under python_version for old clients", async () => {
    const res = await call(systemRoutes(), "GET", "/api/v1/system");
    assert.equal(res.body.runtime, runtimeName());
    assert.equal(res.body.python_version, runtimeVersion());
    assert.equal(res.body.runtime_version, runtimeVersion());
  });
});

describe("info", () => {
  it("emits every base field with nulls in declaration order", async () => {
    const res = await call(infoRoutes({ display_name: "Svc" }), "GET", "/api/v1/info");
    assert.equal(res.text, '{"display_name":"Svc","version":"1.0.0","summary":null,"description":null,"contact":null,"license_info":null}');
  });

  it("falls back to summary for description", () => {
    const body = infoDocument({ display_name: "Svc", summary: "Short" });
    assert.equal(body.description, "Short");
  });

  it("emits every ML field when one is set", () => {
    const body = infoDocument({ display_name: "ML", author: "Team", author_assessed_status: "yellow" });
    assert.deepEqual(Object.keys(body), [
      "display_name", "version", "summary", "description", "contact", "license_info",
      "author", "author_note", "author_assessed_status", "contact_email", "organization",
      "organization_logo_url", "citation_info",
    ]);
  });

  it("emits extra keys after the declared ones", () => {
    const body = infoDocument({ display_name: "Svc", hierarchy: { name: "h" } });
    assert.deepEqual(Object.keys(body).at(-1), "hierarchy");
  });
});

describe("landing page", () => {
  it("serves HTML that loads the info with the literal fetch call", async () => {
    const res = await call(landingPage(), "GET", "/");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.ok(res.text.includes("fetch('/api/v1/info')"));
    assert.ok(res.text.includes("Loading..."));
    assert.ok(res.text.includes("display_name"));
    assert.ok(res.text.includes("version"));
  });
});
