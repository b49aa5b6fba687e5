/** One entry of a validation problem's `errors` list: where, what and which rule. */
export interface FieldError {
  /** Path to the offending value, e.g. `["body", "data", "min_samples"]`. */
  loc: (string | number)[];
  /** Human-readable message. */
  msg: string;
  /** Machine-readable error type, e.g. `missing`, `int_parsing`, `ulid_format`. */
  type: string;
}

/** An RFC 9457 problem details body as chapkit writes it. */
export interface Problem {
  /** A URI reference that names the problem type, e.g. `urn:chapkit:error:not-found`. */
  type: string;
  /** A short summary of the problem type. */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** An explanation specific to this occurrence. */
  detail: string;
  /** The request path the problem occurred on. */
  instance?: string;
  /** Extension members, e.g. `errors` of a validation problem. */
  [extension: string]: unknown;
}

/** Options shared by every chapkit error. */
export interface ChapkitErrorOptions {
  /** The problem's `instance`; the request path when not given. */
  instance?: string;
  /** Extra members added to the problem body (e.g. `errors`). */
  extensions?: Record<string, unknown>;
  /** Extra response headers (e.g. `Allow`, `Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
  /** The underlying error, kept for logs, never sent to clients. */
  cause?: unknown;
  /**
   * Whether sending the same request again may succeed. Defaults by status:
   * true for 408, 429, 502, 503 and 504, false otherwise. The problem body
   * carries `"retryable": true` when it is; absent means retrying cannot help.
   */
  retryable?: boolean;
}

const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/**
 * The base of every chapkit error. Each subclass maps to one RFC 9457
 * problem type (`urn:chapkit:error:*`) and HTTP status.
 */
export class ChapkitError extends Error {
  /** Problem type URN. */
  readonly type: string;
  /** Problem title. */
  readonly title: string;
  /** HTTP status. */
  readonly status: number;
  /** Problem `instance`, when the raiser knows it. */
  readonly instance: string | undefined;
  /** Extra members of the problem body. */
  readonly extensions: Record<string, unknown>;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** Whether sending the same request again may succeed (see {@link ChapkitErrorOptions.retryable}). */
  readonly retryable: boolean;

  /** Creates an error with its detail, problem type, title and status. */
  constructor(
    detail: string,
    problem: { type: string; title: string; status: number },
    options: ChapkitErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.instance = options.instance;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    this.retryable = options.retryable ?? RETRYABLE_STATUSES.has(problem.status);
  }

  /**
   * The RFC 9457 body: `type`, `title`, `status`, `detail`, `instance`, then
   * extensions, then `retryable: true` when retrying may help.
   */
  toProblem(instance?: string): Problem {
    const body: Problem = {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
    };
    const where = this.instance ?? instance;
    if (where !== undefined) body.instance = where;
    for (const [key, value] of Object.entries(this.extensions)) {
      if (value !== undefined && value !== null) body[key] = value;
    }
    if (this.retryable) body.retryable = true;
    return body;
  }
}

const urn = (name: string): string => `urn:chapkit:error:${name}`;

/** 404 `urn:chapkit:error:not-found`. */
export class NotFoundError extends ChapkitError {
  /** Creates a 404 error: the named resource does not exist. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("not-found"), title: "Resource Not Found", status: 404 }, options);
  }
}

/** 400 `urn:chapkit:error:invalid-ulid`. */
export class InvalidUlidError extends ChapkitError {
  /** Creates a 400 error for a value that is not a valid ULID. */
  constructor(value: string, instance?: string) {
    super(`Invalid ULID format: ${value}`, {
      type: urn("invalid-ulid"),
      title: "Invalid ULID Format",
      status: 400,
    }, instance === undefined ? {} : { instance });
  }
}

/** 422 `urn:chapkit:error:validation-failed` with `errors: [{loc, msg, type}]`. */
export class ValidationError extends ChapkitError {
  /** The individual failures. */
  readonly errors: FieldError[];
  /** Creates a 422 error from its field errors; the detail defaults to a summary of the first. */
  constructor(errors: FieldError[], detail?: string, options: ChapkitErrorOptions = {}) {
    super(
      detail ?? describeFieldErrors(errors),
      { type: urn("validation-failed"), title: "Validation Failed", status: 422 },
      { ...options, extensions: { ...options.extensions, errors } },
    );
    this.errors = errors;
  }
}

function describeFieldErrors(errors: FieldError[]): string {
  if (errors.length === 0) return "Validation failed";
  const first = errors[0]!;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${first.loc.join(".")}: ${first.msg}${more}`;
}

/** 409 `urn:chapkit:error:conflict`. */
export class ConflictError extends ChapkitError {
  /** Creates a 409 error: the request conflicts with the resource's current state. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("conflict"), title: "Resource Conflict", status: 409 }, options);
  }
}

/** 400 `urn:chapkit:error:bad-request`. */
export class BadRequestError extends ChapkitError {
  /** Creates a 400 error: the request is malformed. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("bad-request"), title: "Bad Request", status: 400 }, options);
  }
}

/** 400 `urn:chapkit:error:invalid-query`: a malformed list query parameter. */
export class InvalidQueryError extends ChapkitError {
  /** Creates a 400 error for a malformed list query parameter. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("invalid-query"), title: "Invalid Query", status: 400 }, options);
  }
}

/** 401 `urn:chapkit:error:unauthorized`. */
export class UnauthorizedError extends ChapkitError {
  /** Creates a 401 error with a `WWW-Authenticate: Bearer` challenge. */
  constructor(detail = "Authentication required", options: ChapkitErrorOptions = {}) {
    super(detail, { type: urn("unauthorized"), title: "Unauthorized", status: 401 }, {
      ...options,
      headers: { "WWW-Authenticate": 'Bearer realm="chapkit"', ...options.headers },
    });
  }
}

/** 403 `urn:chapkit:error:forbidden`. */
export class ForbiddenError extends ChapkitError {
  /** Creates a 403 error: the caller lacks the permission. */
  constructor(detail = "Permission denied", options?: ChapkitErrorOptions) {
    super(detail, { type: urn("forbidden"), title: "Forbidden", status: 403 }, options);
  }
}

/** 405 `urn:chapkit:error:method-not-allowed`, with an `Allow` header. */
export class MethodNotAllowedError extends ChapkitError {
  /** Creates a 405 error for a method, listing the allowed methods in `Allow`. */
  constructor(method: string, allow: string[], options: ChapkitErrorOptions = {}) {
    super(`Method ${method} is not allowed here; allowed: ${allow.join(", ")}`, {
      type: urn("method-not-allowed"),
      title: "Method Not Allowed",
      status: 405,
    }, { ...options, headers: { Allow: allow.join(", "), ...options.headers } });
  }
}

/** 412 `urn:chapkit:error:precondition-failed`. */
export class PreconditionFailedError extends ChapkitError {
  /** Creates a 412 error: an `If-Match` precondition did not hold. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("precondition-failed"), title: "Precondition Failed", status: 412 }, options);
  }
}

/** 406 `urn:chapkit:error:not-acceptable`: the request asks for an API version or media type the service does not serve. */
export class NotAcceptableError extends ChapkitError {
  /** Creates a 406 error, naming what is served instead. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("not-acceptable"), title: "Not Acceptable", status: 406 }, options);
  }
}

/** 413 `urn:chapkit:error:payload-too-large`. */
export class PayloadTooLargeError extends ChapkitError {
  /** Creates a 413 error: the request body is larger than allowed. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("payload-too-large"), title: "Payload Too Large", status: 413 }, options);
  }
}

/** 416 `urn:chapkit:error:range-not-satisfiable`, with `Content-Range: bytes *\/size`. */
export class RangeNotSatisfiableError extends ChapkitError {
  /** Creates a 416 error: the requested byte range lies outside the `size` bytes there are. */
  constructor(range: string, size: number, options: ChapkitErrorOptions = {}) {
    super(`Range ${range} is outside the ${size} bytes of the content`, {
      type: urn("range-not-satisfiable"),
      title: "Range Not Satisfiable",
      status: 416,
    }, { ...options, headers: { "Content-Range": `bytes */${size}`, ...options.headers } });
  }
}

/** 415 `urn:chapkit:error:unsupported-media-type`. */
export class UnsupportedMediaTypeError extends ChapkitError {
  /** Creates a 415 error: the request body's content type is not accepted. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, {
      type: urn("unsupported-media-type"),
      title: "Unsupported Media Type",
      status: 415,
    }, options);
  }
}

/** 429 `urn:chapkit:error:rate-limited`, with `Retry-After` in seconds. */
export class RateLimitedError extends ChapkitError {
  /** Creates a 429 error telling the caller how many seconds to wait. */
  constructor(retryAfterSeconds: number, options: ChapkitErrorOptions = {}) {
    super(`Rate limit exceeded; retry in ${retryAfterSeconds} s`, {
      type: urn("rate-limited"),
      title: "Too Many Requests",
      status: 429,
    }, { ...options, headers: { "Retry-After": String(retryAfterSeconds), ...options.headers } });
  }
}

/** 503 `urn:chapkit:error:unavailable`: a dependency (e.g. the database) cannot be reached. */
export class UnavailableError extends ChapkitError {
  /** Creates a 503 error: a dependency cannot be reached. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("unavailable"), title: "Service Unavailable", status: 503 }, options);
  }
}

/**
 * A service configured wrongly: a bad setting (naming the variable or file key
 * and the expected form), a missing required module, a bad health-check name.
 * Raised at start-up, so the service never serves with a broken configuration.
 */
export class ConfigurationError extends ChapkitError {
  /** Creates the error with what is wrong. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("configuration"), title: "Invalid Service Configuration", status: 500 }, options);
  }
}

/**
 * 507 `urn:chapkit:error:insufficient-storage`: the store has no room for the
 * write (a full disk); the write was not applied and what is stored is intact.
 */
export class InsufficientStorageError extends ChapkitError {
  /** Creates a 507 error: the write did not fit in the store. */
  constructor(detail: string, options?: ChapkitErrorOptions) {
    super(detail, { type: urn("insufficient-storage"), title: "Insufficient Storage", status: 507 }, options);
  }
}

/**
 * 504 `urn:chapkit:error:timeout`: the request took longer than its route's
 * timeout; its work was told to stop (see `requestSignal`).
 */
export class RequestTimeoutError extends ChapkitError {
  /** Creates the error for a request cut after `timeoutMs`. */
  constructor(timeoutMs: number, options?: ChapkitErrorOptions) {
    super(`The request took longer than ${timeoutMs} ms and was stopped`, {
      type: urn("timeout"),
      title: "Gateway Timeout",
      status: 504,
    }, options);
  }
}

/** 500 `urn:chapkit:error:internal`. Its detail never carries a stack trace. */
export class InternalError extends ChapkitError {
  /** Creates a 500 error; keep internals in `cause`, not in the detail. */
  constructor(detail = "An unexpected error occurred", options?: ChapkitErrorOptions) {
    super(detail, { type: urn("internal"), title: "Internal Server Error", status: 500 }, options);
  }
}

/**
 * Turns any thrown value into a chapkit error: chapkit errors pass through,
 * anything else becomes an {@link InternalError} that keeps the original as
 * its `cause` (for the log) and shows the client nothing of it.
 */
export function toChapkitError(error: unknown): ChapkitError {
  if (error instanceof ChapkitError) return error;
  return new InternalError(undefined, { cause: error });
}
