import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Elysia } from "elysia";
import { NotFoundError } from "../../src/core/errors.ts";
import { createLogger } from "../../src/core/logging.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { requestContext } from "../../src/http/request-context.ts";
import { resolveRequestId } from "../../src/http/request-id.ts";
import { call } from "./_notes.ts";

function app(lines: string[] = [], logRequests = true, level: "info" | "debug" = "info") {
  const logger = createLogger({ format: "json", level, write: (line) => lines.push(line) });
  return new Elysia()
    .use(requestContext({ logger, logRequests }))
    .use(errorHandler({ logger }))
    .get("/ok", () => ({ ok: true }))
    .get("/gone", () => {
      throw new NotFoundError("gone");
    })
    .post("/made", ({ set }) => {
      set.status = 201;
      return { made: true };
    });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("request ids", () => {
  it("keeps an incoming id of allowed characters", () => {
    assert.equal(resolveRequestId("abc.DEF_12-3"), "abc.DEF_12-3");
  });

  it("replaces an id with a character outside [A-Za-z0-9._-]", () => {
    assert.notEqual(resolveRequestId("abc def"), "abc def");
  });

  it("replaces an id longer than 128 characters", () => {
    assert.equal(resolveRequestId("a".repeat(129)).length, 26);
  });

  it("keeps an id of exactly 128 characters", () => {
    assert.equal(resolveRequestId("a".repeat(128)), "a".repeat(128));
  });

  it("generates a fresh ULID when none is sent", () => {
    assert.match(resolveRequestId(null), /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  });

  it("echoes a valid incoming X-Request-ID on the response", async () => {
    const res = await call(app(), "GET", "/ok", undefined, { "x-request-id": "trace-42" });
    assert.equal(res.headers.get("x-request-id"), "trace-42");
  });

  it("sets a fresh X-Request-ID when the incoming one is invalid", async () => {
    const res = await call(app(), "GET", "/ok", undefined, { "x-request-id": "bad id!" });
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  });
});

describe("request logging", () => {
  it("logs one line per request at info: method, path, status code and duration", async () => {
    const lines: string[] = [];
    await call(app(lines), "POST", "/made", {}, { "x-request-id": "r1" });
    await settle();
    const events = lines.map((line) => JSON.parse(line));
    assert.deepEqual(events.map((event) => event.event), ["http.request.complete"]);
    const [complete] = events;
    assert.equal(complete.request_id, "r1");
    assert.equal(complete.method, "POST");
    assert.equal(complete.path, "/made");
    assert.equal(complete.status_code, 201);
    assert.equal(typeof complete.duration_ms, "number");
  });

  it("logs the start of each request too at debug", async () => {
    const lines: string[] = [];
    await call(app(lines, true, "debug"), "POST", "/made", {}, { "x-request-id": "r1" });
    await settle();
    const start = lines.map((line) => JSON.parse(line)).find((event) => event.event === "http.request.start");
    assert.equal(start.request_id, "r1");
    assert.equal(start.path, "/made");
  });

  it("logs the status of a problem response", async () => {
    const lines: string[] = [];
    await call(app(lines), "GET", "/gone");
    await settle();
    const complete = lines.map((line) => JSON.parse(line)).find((event) => event.event === "http.request.complete");
    assert.equal(complete.status_code, 404);
  });

  it("writes nothing per request when request logging is off", async () => {
    const lines: string[] = [];
    await call(app(lines, false), "GET", "/ok");
    await settle();
    assert.deepEqual(lines, []);
  });
});
