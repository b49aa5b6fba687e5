/** A small HTTP client bound to the service under test, shared by every check. */
import { readAnswer } from "../../http/_read-answer.ts";
import { CheckFailed } from "./check.ts";

/** A response, read once: status, headers, raw text and the parsed JSON body (or undefined). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

/** Options of {@link ServiceClient}. */
export interface ServiceClientOptions {
  /** Headers sent with every request (e.g. `Authorization`, `X-API-Key`). */
  headers?: Record<string, string>;
  /** Per-request timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

const TERMINAL = new Set(["completed", "failed", "canceled"]);

/** Talks to one service at `baseUrl`; paths are absolute (`/api/v1/health`). */
export class ServiceClient {
  readonly baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #paths: Promise<Record<string, Record<string, unknown>> | undefined> | undefined;

  constructor(baseUrl: string, options: ServiceClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#headers = options.headers ?? {};
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Sends a request; a JSON `body` is serialised. Network errors become {@link CheckFailed}. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const init: RequestInit = {
      method: method.toUpperCase(),
      headers: { accept: "application/json", ...this.#headers, ...headers },
      signal: AbortSignal.timeout(this.#timeoutMs),
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, init);
    } catch (error) {
      throw new CheckFailed(`${method} ${path} did not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
    return readAnswer(response);
  }

  /** Sends a request and fails unless the status is `status`; returns the answer. */
  async expectStatus(method: string, path: string, status: number, body?: unknown): Promise<Answer> {
    const answer = await this.request(method, path, body);
    if (answer.status !== status) {
      throw new CheckFailed(`${method} ${path} answered ${answer.status}, expected ${status}: ${answer.text.slice(0, 300)}`);
    }
    return answer;
  }

  /**
   * Whether the service's OpenAPI document (`/openapi.json`) lists `method path`.
   * Without a document it probes: any answer but 404/405 means the route exists.
   */
  async hasOperation(method: string, path: string): Promise<boolean> {
    this.#paths ??= this.request("GET", "/openapi.json").then((answer) => {
      const paths = (answer.body as { paths?: unknown } | undefined)?.paths;
      return answer.status === 200 && paths && typeof paths === "object"
        ? paths as Record<string, Record<string, unknown>>
        : undefined;
    }, () => undefined);
    const paths = await this.#paths;
    if (paths) {
      const item = paths[path] ?? paths[path.replace(/\/$/, "")];
      return item !== undefined && method.toLowerCase() in item;
    }
    const verb = method.toUpperCase();
    const probe = await this.request(verb, path, verb === "GET" ? undefined : {});
    return probe.status !== 404 && probe.status !== 405;
  }

  /**
   * Polls `GET /api/v1/jobs/{id}` until the job is completed, failed or canceled,
   * and returns the final record; fails after `timeoutMs`.
   */
  async waitForJob(id: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let delay = 20;
    for (;;) {
      const answer = await this.expectStatus("GET", `/api/v1/jobs/${id}`, 200);
      const record = answer.body as Record<string, unknown>;
      if (TERMINAL.has(String(record?.status))) return record;
      if (Date.now() > deadline) throw new CheckFailed(`job ${id} is still ${String(record?.status)} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 250);
    }
  }
}
