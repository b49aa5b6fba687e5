import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatSseEvent, sleepUnlessAborted, sseResponse } from "../../src/http/sse.ts";
import { serve } from "../../src/runtime/serve.ts";

describe("formatSseEvent", () => {
  test("sends a non-string payload as compact JSON on one data line", () => {
    assert.equal(formatSseEvent({ data: { status: "running", n: [1, 2] } }), 'data: {"status":"running","n":[1,2]}\n\n');
  });

  test("writes event, id and retry fields before the data, one data line per line of text", () => {
    assert.equal(
      formatSseEvent({ event: "tick", id: "7", retry: 1500, data: "a\nb\r\nc" }),
      "event: tick\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\n\n",
    );
  });

  test("refuses a line break in an event type or id, which would forge another field", () => {
    assert.throws(() => formatSseEvent({ event: "a\ndata: x", data: 1 }), TypeError);
    assert.throws(() => formatSseEvent({ id: "1\n", data: 1 }), TypeError);
  });
});

describe("sseResponse", () => {
  test("answers text/event-stream without caching or proxy buffering and closes when the producer returns", async () => {
    const response = sseResponse(({ send }) => {
      send({ id: "1", data: { n: 1 } });
      send({ id: "2", data: { n: 2 } });
    }, { heartbeatMs: 0, retryMs: 2000 });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(response.headers.get("cache-control"), "no-cache");
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    assert.equal(await response.text(), 'retry: 2000\n\nid: 1\ndata: {"n":1}\n\nid: 2\ndata: {"n":2}\n\n');
  });

  test("sends heartbeat comments while the producer is quiet", async () => {
    const response = sseResponse(async ({ send, signal }) => {
      await sleepUnlessAborted(120, signal);
      send({ data: "done" });
    }, { heartbeatMs: 20 });
    const text = await response.text();
    assert.match(text, /^: heartbeat\n\n/);
    assert.ok(text.endsWith("data: done\n\n"));
  });

  test("ends the stream when the producer throws", async () => {
    const response = sseResponse(({ send }) => {
      send({ data: 1 });
      throw new Error("boom");
    }, { heartbeatMs: 0 });
    assert.equal(await response.text(), "data: 1\n\n");
  });

  test("aborts the producer's signal when the client disconnects from a real server", async () => {
    let aborted!: () => void;
    const stopped = new Promise<void>((resolve) => (aborted = resolve));
    let sent = 0;
    const server = await serve((request) =>
      sseResponse(async ({ send, signal }) => {
        signal.addEventListener("abort", () => aborted(), { once: true });
        while (!signal.aborted) {
          if (send({ data: { sent } })) sent += 1;
          await sleepUnlessAborted(10, signal);
        }
      }, { signal: request.signal, heartbeatMs: 0 }), { port: 0, hostname: "127.0.0.1" });
    try {
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${server.port}/`, { signal: controller.signal });
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^data: \{"sent":0\}/);
      controller.abort();
      await reader.cancel().catch(() => {});
      await stopped;
      const after = sent;
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(sent, after, "nothing is sent after the disconnect");
    } finally {
      await server.stop(100);
    }
  });
});
