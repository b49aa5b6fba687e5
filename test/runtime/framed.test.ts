import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isFramed } from "../../src/runtime/framed.ts";
import { serve } from "../../src/runtime/serve.ts";

describe("framed requests", () => {
  test("a request the HTTP server received is framed; one made in process is not", async () => {
    const seen: boolean[] = [];
    const server = await serve((request) => {
      seen.push(isFramed(request));
      return new Response("ok");
    }, { port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "{}" });
      assert.equal(await response.text(), "ok");
    } finally {
      await server.stop();
    }
    assert.deepEqual(seen, [true]);
    assert.equal(isFramed(new Request("http://localhost/", { method: "POST", body: "{}" })), false);
  });
});
