import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { CircuitOpenError } from "../../src/core/circuit-breaker.ts";
import { UnavailableError } from "../../src/core/errors.ts";
import { backoffDelay, type OutboundAttempt, OutboundPolicy, outboundOptions, retryAfterMs } from "../../src/core/resilient-fetch.ts";
import { loadSettings } from "../../src/core/settings/load.ts";
import { type ServiceProcess, startService } from "../_support/service-process.ts";

let dependency: ServiceProcess;
let base = "";
let counter = 0;

/** A fresh endpoint of the dependency process answering `answers` in turn. */
function plan(...answers: Array<number | "hang" | "slow-body">): string {
  return `${base}/call${++counter}?answers=${answers.join(",")}`;
}

/** How many calls reached the endpoint of `url`. */
async function hits(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  return (await (await fetch(`${base}/hits/${name}`)).json()).hits;
}

before(async () => {
  dependency = await startService(fileURLToPath(new URL("./_scripted-dependency.ts", import.meta.url).href));
  base = dependency.url;
});
after(() => dependency.stop());

const quick = { backoffMs: 5, maxBackoffMs: 50 };

describe("OutboundPolicy", () => {
  it("retries an idempotent call on 503 and returns the success", async () => {
    const attempts: OutboundAttempt[] = [];
    const policy = new OutboundPolicy({ ...quick, onAttempt: (attempt) => attempts.push(attempt) });
    const url = plan(503, 503, 200);
    const response = await policy.fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await hits(url), 3);
    assert.deepEqual(attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.outcome]), [[1, 503, "retry"], [2, 503, "retry"], [3, 200, "ok"]]);
  });

  it("returns the last error answer once the retries are spent", async () => {
    const policy = new OutboundPolicy({ ...quick, retries: 1 });
    const url = plan(502);
    const response = await policy.fetch(url);
    assert.equal(response.status, 502);
    assert.equal(await hits(url), 2);
  });

  it("does not retry a POST unless told the receiver deduplicates", async () => {
    const policy = new OutboundPolicy(quick);
    const url = plan(503, 200);
    assert.equal((await policy.fetch(url, { method: "POST", body: "x" })).status, 503);
    assert.equal(await hits(url), 1);
    const retrying = new OutboundPolicy({ ...quick, retryNonIdempotent: true });
    const response = await retrying.fetch(plan(503, 200), { method: "POST", body: "payload" });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).body, "payload", "the body is sent again on the retry");
  });

  it("never retries a 4xx answer, which also proves the dependency is up", async () => {
    const policy = new OutboundPolicy({ ...quick, breaker: { failureThreshold: 1 } });
    const url = plan(404);
    assert.equal((await policy.fetch(url)).status, 404);
    assert.equal(await hits(url), 1);
    assert.equal(policy.breakerFor(base)!.state, "closed");
  });

  it("honours Retry-After on 429", async () => {
    const policy = new OutboundPolicy(quick);
    const url = plan(429, 200);
    assert.equal((await policy.fetch(url)).status, 200);
    assert.equal(await hits(url), 2);
  });

  it("gives each attempt a timeout and fails with 503 when no answer comes", async () => {
    const attempts: OutboundAttempt[] = [];
    const policy = new OutboundPolicy({ ...quick, timeoutMs: 50, retries: 1, breaker: false, onAttempt: (a) => attempts.push(a) });
    await assert.rejects(policy.fetch(plan("hang")), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+ got no answer after 2 attempt\(s\): timed out after 50 ms/);
      return true;
    });
    assert.deepEqual(attempts.map((attempt) => attempt.outcome), ["timeout", "timeout"]);
  });

  it("counts a body that never ends as a timeout", async () => {
    const policy = new OutboundPolicy({ timeoutMs: 50, retries: 0, breaker: false });
    await assert.rejects(policy.fetch(plan("slow-body")), /timed out after 50 ms/);
  });

  it("stops at once when the caller aborts, without retrying or blaming the dependency", async () => {
    const policy = new OutboundPolicy({ ...quick, timeoutMs: 5000, breaker: { failureThreshold: 1 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 20);
    const url = plan("hang");
    await assert.rejects(policy.fetch(url, { signal: controller.signal }), /caller gave up/);
    assert.equal(await hits(url), 1);
    assert.equal(policy.breakerFor(base)!.state, "closed");
  });

  it("does not retry a streamed body it cannot send twice", async () => {
    const policy = new OutboundPolicy({ ...quick, retryNonIdempotent: true });
    const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("once")); c.close(); } });
    const url = plan(503, 200);
    const response = await policy.fetch(url, { method: "POST", body, duplex: "half" } as RequestInit);
    assert.equal(response.status, 503);
    assert.equal(await hits(url), 1);
  });

  it("opens the origin's breaker after consecutive failures, fails fast, then closes on a good trial", async () => {
    const changes: string[] = [];
    const policy = new OutboundPolicy({ ...quick, retries: 0, breaker: { failureThreshold: 2, probeIntervalMs: 40 } });
    policy.onStateChange(({ from, to }) => changes.push(`${from}→${to}`));
    const url = plan(500, 500, 200);
    assert.equal((await policy.fetch(url)).status, 500);
    assert.equal((await policy.fetch(url)).status, 500);
    await assert.rejects(policy.fetch(url), (error: unknown) => {
      assert.ok(error instanceof CircuitOpenError);
      assert.equal(error.status, 503);
      assert.equal(error.headers["Retry-After"], "1");
      return true;
    });
    assert.equal(await hits(url), 2, "an open breaker does not call the dependency");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await policy.fetch(url)).status, 200);
    assert.deepEqual(changes, ["closed→open", "open→half-open", "half-open→closed"]);
    assert.equal(policy.snapshots()[0]!.state, "closed");
  });
});

describe("a dependency process that hangs", () => {
  it("trips the breaker, after which calls fail at once without reaching it", async () => {
    const policy = new OutboundPolicy({ timeoutMs: 100, retries: 1, backoffMs: 5, breaker: { failureThreshold: 2, probeIntervalMs: 60_000 } });
    const url = plan("hang");
    await assert.rejects(policy.fetch(url), UnavailableError);
    assert.equal(policy.breakerFor(url)!.state, "open");
    const started = performance.now();
    await assert.rejects(policy.fetch(plan(200)), CircuitOpenError);
    assert.ok(performance.now() - started < 50, "an open breaker answers without waiting");
    assert.equal(await hits(url), 2, "only the two timed-out attempts reached the dependency");
  });
});

describe("outbound settings", () => {
  it("tune the policy from CHAPKIT_OUTBOUND_* variables", async () => {
    const { settings } = await loadSettings({ env: { CHAPKIT_OUTBOUND_RETRIES: "0", CHAPKIT_OUTBOUND_BREAKER_THRESHOLD: "1" } });
    const policy = new OutboundPolicy(outboundOptions(settings.outbound, { backoffMs: 1 }));
    const url = plan(500, 200);
    assert.equal((await policy.fetch(url)).status, 500);
    assert.equal(await hits(url), 1, "no retry");
    assert.equal(policy.breakerFor(url)!.state, "open", "one failure opens the circuit");
  });
});

describe("back-off", () => {
  it("grows exponentially under a cap, with full jitter", () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 100, 1000, () => 0.999999)), [99, 199, 399, 799, 999]);
    assert.equal(backoffDelay(3, 100, 1000, () => 0), 0);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    assert.equal(retryAfterMs("3"), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(retryAfterMs("soon"), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });
});
