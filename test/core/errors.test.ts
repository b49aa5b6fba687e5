/** Chapkit errors as RFC 9457 problem bodies. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BadRequestError,
  ChapkitError,
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidQueryError,
  InvalidUlidError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RateLimitedError,
  InsufficientStorageError,
  toChapkitError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../src/core/errors.ts";

describe("problem types", () => {
  const cases: [ChapkitError, string, string, number][] = [
    [new NotFoundError("x"), "not-found", "Resource Not Found", 404],
    [new InvalidUlidError("x"), "invalid-ulid", "Invalid ULID Format", 400],
    [new ValidationError([]), "validation-failed", "Validation Failed", 422],
    [new ConflictError("x"), "conflict", "Resource Conflict", 409],
    [new BadRequestError("x"), "bad-request", "Bad Request", 400],
    [new InvalidQueryError("x"), "invalid-query", "Invalid Query", 400],
    [new UnauthorizedError(), "unauthorized", "Unauthorized", 401],
    [new ForbiddenError(), "forbidden", "Forbidden", 403],
    [new MethodNotAllowedError("POST", ["GET"]), "method-not-allowed", "Method Not Allowed", 405],
    [new PreconditionFailedError("x"), "precondition-failed", "Precondition Failed", 412],
    [new PayloadTooLargeError("x"), "payload-too-large", "Payload Too Large", 413],
    [new UnsupportedMediaTypeError("x"), "unsupported-media-type", "Unsupported Media Type", 415],
    [new RateLimitedError(3), "rate-limited", "Too Many Requests", 429],
    [new UnavailableError("x"), "unavailable", "Service Unavailable", 503],
    [new InsufficientStorageError("x"), "insufficient-storage", "Insufficient Storage", 507],
    [new InternalError(), "internal", "Internal Server Error", 500],
  ];
  for (const [error, name, title, status] of cases) {
    it(`${error.name} is ${status} urn:chapkit:error:${name} "${title}"`, () => {
      const problem = error.toProblem();
      assert.equal(problem.type, `urn:chapkit:error:${name}`);
      assert.equal(problem.title, title);
      assert.equal(problem.status, status);
      assert.equal(error.status, status);
      assert.ok(error instanceof ChapkitError && error instanceof Error);
    });
  }
});

describe("toProblem", () => {
  it("writes type, title, status, detail and instance in that order", () => {
    const problem = new NotFoundError("Entity with id X not found").toProblem("/api/v1/config/X");
    assert.deepEqual(Object.keys(problem), ["type", "title", "status", "detail", "instance"]);
    assert.equal(problem.detail, "Entity with id X not found");
    assert.equal(problem.instance, "/api/v1/config/X");
  });

  it("prefers the raiser's instance over the one given at rendering", () => {
    const problem = new NotFoundError("gone", { instance: "/api/v1/config/A" }).toProblem("/full/request/url");
    assert.equal(problem.instance, "/api/v1/config/A");
  });

  it("omits instance when nobody knows it", () => {
    assert.equal("instance" in new ConflictError("taken").toProblem(), false);
  });

  it("adds extensions after the standard members and drops null ones", () => {
    const problem = new ConflictError("taken", { extensions: { field: "name", hint: null } }).toProblem("/x");
    assert.deepEqual(Object.keys(problem), ["type", "title", "status", "detail", "instance", "field"]);
    assert.equal(problem.field, "name");
  });

  it("lists validation failures under errors with loc, msg and type", () => {
    const errors = [
      { loc: ["body", "name"], msg: "Field required", type: "missing" },
      { loc: ["body", "data", 0], msg: "Input should be a valid integer", type: "int_type" },
    ];
    const problem = new ValidationError(errors).toProblem();
    assert.deepEqual(problem.errors, errors);
    assert.equal(problem.detail, "body.name: Field required (and 1 more)");
  });

  it("never puts the cause or a stack trace on the wire", () => {
    const error = toChapkitError(new Error("secret connection string postgres://u:p@h"));
    assert.ok(error instanceof InternalError);
    const body = JSON.stringify(error.toProblem());
    assert.doesNotMatch(body, /secret|postgres:|at /);
    assert.equal(error.toProblem().detail, "An unexpected error occurred");
    assert.ok(error.cause instanceof Error);
  });
});

describe("headers", () => {
  it("401 asks for a bearer token", () => {
    assert.equal(new UnauthorizedError().headers["WWW-Authenticate"], 'Bearer realm="chapkit"');
  });

  it("405 lists the allowed methods", () => {
    const error = new MethodNotAllowedError("DELETE", ["GET", "PUT"]);
    assert.equal(error.headers.Allow, "GET, PUT");
    assert.match(error.message, /DELETE/);
  });

  it("429 says when to retry", () => {
    assert.equal(new RateLimitedError(7).headers["Retry-After"], "7");
  });
});

describe("toChapkitError", () => {
  it("passes chapkit errors through unchanged", () => {
    const error = new ConflictError("taken");
    assert.equal(toChapkitError(error), error);
  });

  it("wraps anything else, even a thrown string, in an InternalError", () => {
    assert.ok(toChapkitError("boom") instanceof InternalError);
    assert.equal(toChapkitError("boom").cause, "boom");
  });
});
