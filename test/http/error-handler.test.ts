import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { createLogger } from "../../src/core/logging.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { jsonBody } from "../../src/http/json-body.ts";
import { requestContext } from "../../src/http/request-context.ts";
import { closeRoutes } from "../../src/http/routing.ts";
import { call } from "./_notes.ts";

function appWithLog(lines: string[]) {
  const logger = createLogger({ format: "json", level: "debug", write: (line) => lines.push(line) });
  const app = new Elysia()
    .use(requestContext({ logger, maxBodyBytes: 64 }))
    .use(errorHandler({ logger }))
    .use(jsonBody({ maxBodyBytes: 64 }))
    .get("/boom", () => {
      throw new Error("secret database password");
    })
    .post("/typed", ({ body }) => body, { body: t.Object({ name: t.String(), n: t.Integer() }) })
    .get("/query", ({ query }) => query, { query: t.Object({ page: t.Integer() }) })
    .post("/echo", ({ body }) => ({ body }))
    .put("/echo", ({ body }) => ({ body }));
  void Type;
  return closeRoutes(app);
}

describe("error handler", () => {
  it("answers an unexpected error with a 500 internal problem and no stack", async () => {
    const lines: string[] = [];
    const res = await call(appWithLog(lines), "GET", "/boom");
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(res.body.type, "urn:chapkit:error:internal");
    assert.equal(res.body.instance, "/boom");
    assert.doesNotMatch(res.text, /secret|at /);
  });

  it("logs the stack of an unexpected error", async () => {
    const lines: string[] = [];
    await call(appWithLog(lines), "GET", "/boom");
    const entry = lines.map((line) => JSON.parse(line)).find((line) => line.event === "http.request.error");
    assert.ok(entry);
    assert.match(JSON.stringify(entry.error), /secret database password/);
  });

  it("maps framework body validation to 422 with body locations", async () => {
    const res = await call(appWithLog([]), "POST", "/typed", { name: 3 });
    assert.equal(res.status, 422);
    assert.equal(res.body.type, "urn:chapkit:error:validation-failed");
    const locs = res.body.errors.map((error: { loc: unknown[] }) => error.loc.join(".")).sort();
    assert.deepEqual(locs, ["body.n", "body.name"]);
  });

  it("maps framework query validation to 422 with query locations", async () => {
    const res = await call(appWithLog([]), "GET", "/query?page=abc");
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors[0].loc, ["query", "page"]);
  });

  it("answers malformed JSON with 422 json_invalid", async () => {
    const res = await call(appWithLog([]), "POST", "/echo", "{bad");
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors, [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
  });

  it("parses a body without Content-Type as JSON", async () => {
    const app = appWithLog([]);
    const request = new Request("http://localhost/echo", { method: "POST", body: '{"a":1}' });
    request.headers.delete("content-type");
    const res = await app.handle(request);
    assert.deepEqual(await res.json(), { body: { a: 1 } });
  });

  it("answers an oversized body with 413 by its Content-Length", async () => {
    const res = await call(appWithLog([]), "POST", "/echo", "{}", {
      "content-type": "application/json",
      "content-length": "100000",
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.type, "urn:chapkit:error:payload-too-large");
  });

  it("answers an oversized body without Content-Length with 413", async () => {
    const res = await call(appWithLog([]), "POST", "/echo", JSON.stringify({ text: "x".repeat(200) }));
    assert.equal(res.status, 413);
  });

  it("answers an unknown route with a 404 problem", async () => {
    const res = await call(appWithLog([]), "GET", "/nowhere");
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, {
      type: "urn:chapkit:error:not-found",
      title: "Resource Not Found",
      status: 404,
      detail: "Not Found",
      instance: "/nowhere",
    });
  });

  it("answers a wrong method with 405 and the path's methods in Allow", async () => {
    const res = await call(appWithLog([]), "DELETE", "/echo");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST, PUT");
  });

  it("sets X-Request-ID on problem responses", async () => {
    const res = await call(appWithLog([]), "GET", "/nowhere");
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  });
});
