import assert from "node:assert/strict";

/** The origin test requests are sent to through `app.handle`. */
export const BASE = "http://localhost";

/** Anything with Elysia's `handle`. */
export interface Handler {
  handle(request: Request): Promise<Response>;
}

/** Sends a request: a JSON body for JSON values, raw bytes for a Uint8Array. */
export function call(
  app: Handler,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof Uint8Array) {
    init.body = body as Uint8Array<ArrayBuffer>;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  return app.handle(new Request(`${BASE}${path}`, init));
}

/** Asserts a JSON answer with `status` and returns its body. */
export async function json<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as T;
}
