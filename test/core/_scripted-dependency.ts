/**
 * A dependency process for the outbound tests; prints `READY <port>`.
 * `/<name>?answers=503,503,200` answers each call to `<name>` with the next
 * status of the list (the last one repeats); `hang` never answers and
 * `slow-body` starts a body it never ends. `/hits/<name>` counts the calls.
 */
import { serve } from "../../src/runtime/serve.ts";

const hits = new Map<string, number>();
const server = await serve(async (request) => {
  const url = new URL(request.url);
  const [, first, second] = url.pathname.split("/");
  if (first === "hits") return Response.json({ hits: hits.get(second ?? "") ?? 0 });
  const name = first ?? "";
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  const answers = (url.searchParams.get("answers") ?? "200").split(",");
  const next = answers[Math.min(count, answers.length) - 1]!;
  if (next === "hang") return new Promise<Response>(() => {});
  if (next === "slow-body") {
    return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }));
  }
  const status = Number(next);
  const headers: Record<string, string> = status === 429 ? { "retry-after": "0" } : {};
  return Response.json({ status, body: request.method === "POST" ? await request.text() : null }, { status, headers });
}, { port: 0, hostname: "127.0.0.1" });
console.log(`READY ${server.port}`);
