/** An in-process HTTP client bound to a built service: real routes and store, no port. */
import { readAnswer } from "../http/_read-answer.ts";
import type { ServiceApp, ServiceHandle } from "../service/lifecycle.ts";

/** An answer, read once: status, headers, the raw text and the parsed JSON body (undefined when not JSON). */
export interface TestResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

/** Per-request options of {@link TestClient.request}. */
export interface TestRequestOptions {
  /** A JSON body (serialised), or raw bytes/text with `headers["content-type"]`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Query parameters, appended to the path. */
  query?: Record<string, string | number | boolean | undefined>;
}

/** A job record as `GET /api/v1/jobs/{id}` answers it. */
export interface TestJob {
  id: string;
  status: string;
  error: string | null;
  artifact_id?: string | null;
  [key: string]: unknown;
}

const TERMINAL = new Set(["completed", "failed", "canceled"]);

/** The client {@link testClient} returns; every request goes through `app.handle`. */
export class TestClient {
  /** The built service; its store and managers are at `app.chapkit`. */
  readonly app: ServiceApp;
  readonly #headers: Record<string, string>;

  constructor(app: ServiceApp, headers: Record<string, string> = {}) {
    this.app = app;
    this.#headers = headers;
  }

  /** A client on the same service that sends `headers` with every request (e.g. an API key). */
  withHeaders(headers: Record<string, string>): TestClient {
    return new TestClient(this.app, { ...this.#headers, ...headers });
  }

  /** Sends one request to the service in-process. */
  async request<T = any>(method: string, path: string, options: TestRequestOptions = {}): Promise<TestResponse<T>> {
    const url = new URL(`http://localhost${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { ...this.#headers, ...options.headers };
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      const raw = typeof options.body === "string" || options.body instanceof Uint8Array || options.body instanceof ArrayBuffer;
      if (raw && headers["content-type"]) body = options.body as BodyInit;
      else {
        headers["content-type"] ??= "application/json";
        body = JSON.stringify(options.body);
      }
    }
    const response = await this.app.handle(new Request(url, { method, headers, ...(body === undefined ? {} : { body }) }));
    return await readAnswer(response) as TestResponse<T>;
  }

  /** `GET path`. */
  get<T = any>(path: string, options?: TestRequestOptions): Promise<TestResponse<T>> {
    return this.request<T>("GET", path, options);
  }

  /** `POST path` with a JSON body. */
  post<T = any>(path: string, body?: unknown, options: TestRequestOptions = {}): Promise<TestResponse<T>> {
    return this.request<T>("POST", path, { ...options, body });
  }

  /** `PUT path` with a JSON body. */
  put<T = any>(path: string, body?: unknown, options: TestRequestOptions = {}): Promise<TestResponse<T>> {
    return this.request<T>("PUT", path, { ...options, body });
  }

  /** `PATCH path` with a JSON body. */
  patch<T = any>(path: string, body?: unknown, options: TestRequestOptions = {}): Promise<TestResponse<T>> {
    return this.request<T>("PATCH", path, { ...options, body });
  }

  /** `DELETE path`. */
  delete<T = any>(path: string, options?: TestRequestOptions): Promise<TestResponse<T>> {
    return this.request<T>("DELETE", path, options);
  }

  /**
   * Polls a job until it is completed, failed or canceled and returns its
   * record; throws after `timeoutMs` (default 10 000) naming its last status.
   */
  async waitForJob(id: string, timeoutMs = 10_000): Promise<TestJob> {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      const { status, body } = await this.get<TestJob>(`/api/v1/jobs/${id}`);
      if (status !== 200) throw new Error(`GET /api/v1/jobs/${id} answered ${status}`);
      if (TERMINAL.has(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${body.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 50);
    }
  }

  /** Closes the service (hooks, modules, its store). */
  close(): Promise<void> {
    return this.app.chapkit.close();
  }

  /** `await using client = await testClient(...)` closes the service at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Builds the service (a builder, or an app already built) and returns a client
 * that calls it in-process: the real routes, store and jobs, no socket. Close it
 * (or `await using`) when the test is done.
 *
 * @example
 * ```ts ignore
 * const client = await testClient(new ServiceBuilder({ info, databaseUrl: "sqlite::memory:" }).withConfig(schema));
 * const created = await client.post("/api/v1/config", { name: "a", data: {} });
 * assert.equal(created.status, 201);
 * await client.close();
 * ```
 */
export async function testClient(service: { build(): Promise<unknown> } | { readonly chapkit: ServiceHandle }): Promise<TestClient> {
  // Structural on purpose: every builder's build() returns a ServiceApp typed by its own routes.
  const app = ("chapkit" in service ? service : await service.build()) as ServiceApp;
  return new TestClient(app);
}
