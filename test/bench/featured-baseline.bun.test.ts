import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ServerProcess, startServer } from "../../bench/lib/process.ts";

// The crud suite's featured baseline must carry the per-request features it
// stands for, or "chapkit vs featured" would compare against less work.
describe("crud bench featured baseline", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-featured-"));
  let server: ServerProcess;
  let stderr = "";
  before(async () => {
    server = await startServer(new URL("../../bench/baselines/crud-featured.ts", import.meta.url).pathname, {
      DATABASE_URL: `sqlite:${join(dir, "bench.db")}`,
      BENCH_SEED: "30",
    });
    server.child.stderr?.on("data", (chunk) => (stderr += String(chunk)));
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const firstId = async (): Promise<string> => {
    const body = await (await fetch(`${server.base}/api/v1/config?page=1&size=1`)).json() as { items: { id: string }[] };
    return body.items[0]!.id;
  };

  it("answers an item with request id, security headers, ETag, Last-Modified and Link, and 304 for its ETag", async () => {
    const id = await firstId();
    const response = await fetch(`${server.base}/api/v1/config/${id}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("x-request-id") ?? "", /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
    assert.ok(response.headers.get("last-modified"));
    assert.match(response.headers.get("link") ?? "", /rel="self", <[^>]+\/api\/v1\/config>; rel="collection"/);
    assert.equal(((await response.json()) as { id: string }).id, id);
    const etag = response.headers.get("etag")!;
    const again = await fetch(`${server.base}/api/v1/config/${id}`, { headers: { "if-none-match": etag, "x-request-id": "abc-1" } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("x-request-id"), "abc-1");
  });

  it("answers a page with an ETag and first, prev, next and describedby links", async () => {
    const response = await fetch(`${server.base}/api/v1/config?page=2&size=10`);
    const body = await response.json() as { items: unknown[]; total: number; pages: number };
    assert.equal(body.items.length, 10);
    assert.equal(body.total, 30);
    assert.equal(body.pages, 3);
    const link = response.headers.get("link") ?? "";
    for (const rel of ["self", "first", "prev", "next", "describedby"]) assert.match(link, new RegExp(`rel="${rel}"`));
    const cached = await fetch(`${server.base}/api/v1/config?page=2&size=10`, { headers: { "if-none-match": response.headers.get("etag")! } });
    assert.equal(cached.status, 304);
  });

  it("answers bad ids and taken names with problem+json", async () => {
    const bad = await fetch(`${server.base}/api/v1/config/not-a-ulid`);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("content-type"), "application/problem+json");
    assert.equal(((await bad.json()) as { type: string }).type, "urn:chapkit:error:invalid-ulid");
    const post = (name: string) =>
      fetch(`${server.base}/api/v1/config`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, data: { min_samples: 1, model: "m", features: [] } }),
      });
    const created = await post("featured-1");
    assert.equal(created.status, 201);
    assert.ok(created.headers.get("location")?.endsWith(((await created.json()) as { id: string }).id));
    const taken = await post("featured-1");
    assert.equal(taken.status, 409);
    assert.equal(((await taken.json()) as { type: string }).type, "urn:chapkit:error:conflict");
  });

  it("writes one completion line per request to stderr", async () => {
    await fetch(`${server.base}/api/v1/config/01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.match(stderr, /http\.request\.complete request_id=\S+ method=GET path=\/api\/v1\/config\/01ARZ3NDEKTSV4RRFFQ69G5FAV status_code=404/);
  });
});
