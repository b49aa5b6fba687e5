/** The circuit breaker: closed → open after consecutive failures → half-open trials → closed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CircuitStateChange, CircuitBreaker, CircuitOpenError } from "../../src/core/circuit-breaker.ts";
import { ConflictError, UnavailableError } from "../../src/core/errors.ts";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const boom = (): Promise<never> => Promise.reject(new Error("down"));

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await assert.rejects(breaker.execute(boom), /down/);
}

function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() > until) reject(new Error("condition not met in time"));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe("CircuitBreaker", () => {
  it("passes calls and their results through while closed", async () => {
    const breaker = new CircuitBreaker();
    assert.equal(await breaker.execute(() => 42), 42);
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.retryAfterMs(), 0);
  });

  it("rethrows the call's own error unchanged", async () => {
    const breaker = new CircuitBreaker();
    const error = new ConflictError("taken");
    await assert.rejects(breaker.execute(() => Promise.reject(error)), (e) => e === error);
  });

  it("opens after the threshold of consecutive failures, not before", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 2);
    await failTimes(breaker, 1);
    assert.equal(breaker.state, "open");
  });

  it("counts only consecutive failures: a success resets the count", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    await failTimes(breaker, 1);
    await breaker.execute(() => "ok");
    await failTimes(breaker, 1);
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 1);
  });

  it("does not count errors isFailure rejects, and they reset the count", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, isFailure: (e) => e instanceof UnavailableError });
    await assert.rejects(breaker.execute(() => Promise.reject(new UnavailableError("gone"))));
    await assert.rejects(breaker.execute(() => Promise.reject(new ConflictError("taken"))));
    await assert.rejects(breaker.execute(() => Promise.reject(new UnavailableError("gone"))));
    assert.equal(breaker.state, "closed");
  });

  it("rejects calls while open with a 503 CircuitOpenError carrying Retry-After, without running them", async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ name: "billing", failureThreshold: 1, probeIntervalMs: 2500, now: clock.now });
    await failTimes(breaker, 1);
    let ran = false;
    const error = await breaker.execute(() => (ran = true)).catch((e: unknown) => e);
    assert.equal(ran, false);
    assert.ok(error instanceof CircuitOpenError);
    assert.ok(error instanceof UnavailableError);
    assert.equal(error.status, 503);
    assert.equal(error.headers["Retry-After"], "3");
    assert.equal(error.retryAfterSeconds, 3);
    assert.equal(error.circuit, "billing");
    assert.match(error.message, /billing is unavailable/);
    assert.match(String((error.cause as Error).message), /down/);
  });

  it("counts Retry-After down as the probe interval passes, never below 1 s", async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, probeIntervalMs: 3000, now: clock.now });
    await failTimes(breaker, 1);
    assert.equal(breaker.retryAfterSeconds(), 3);
    clock.advance(2100);
    assert.equal(breaker.retryAfterMs(), 900);
    assert.equal(breaker.retryAfterSeconds(), 1);
    clock.advance(5000);
    assert.equal(breaker.retryAfterMs(), 0);
    assert.equal(breaker.retryAfterSeconds(), 1);
  });

  it("lets one trial call through after the probe interval (half-open) and closes on its success", async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, probeIntervalMs: 1000, now: clock.now });
    await failTimes(breaker, 1);
    clock.advance(1000);
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve("back"))));
    assert.equal(breaker.state, "half-open");
    await assert.rejects(breaker.execute(() => "second"), CircuitOpenError);
    release();
    assert.equal(await trial, "back");
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.failures, 0);
    assert.equal(await breaker.execute(() => "again"), "again");
  });

  it("re-opens on a failed trial and waits a whole interval again", async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3, probeIntervalMs: 1000, now: clock.now });
    await failTimes(breaker, 3);
    clock.advance(1000);
    await failTimes(breaker, 1);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.retryAfterMs(), 1000);
    await assert.rejects(breaker.execute(() => "x"), CircuitOpenError);
  });

  it("tells state listeners every change, with the failure that opened it", async () => {
    const clock = manualClock();
    const seen: CircuitStateChange[] = [];
    const breaker = new CircuitBreaker({ name: "db", failureThreshold: 2, probeIntervalMs: 10, now: clock.now, onStateChange: (c) => seen.push(c) });
    const more: string[] = [];
    const stop = breaker.onStateChange((c) => more.push(c.to));
    await failTimes(breaker, 2);
    clock.advance(10);
    await breaker.execute(() => "ok");
    stop();
    await failTimes(breaker, 2);
    assert.deepEqual(seen.map((c) => `${c.from}>${c.to}`), ["closed>open", "open>half-open", "half-open>closed", "closed>open"]);
    assert.equal(seen[0]!.name, "db");
    assert.equal(seen[0]!.failures, 2);
    assert.match(String((seen[0]!.error as Error).message), /down/);
    assert.equal(seen[2]!.failures, 0);
    assert.deepEqual(more, ["open", "half-open", "closed"]);
  });

  it("ignores a listener that throws", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, onStateChange: () => { throw new Error("bug"); } });
    await failTimes(breaker, 1);
    assert.equal(breaker.state, "open");
  });

  it("reports a snapshot for health and metrics", async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ name: "db", failureThreshold: 1, probeIntervalMs: 500, now: clock.now });
    assert.deepEqual(breaker.snapshot(), { name: "db", state: "closed", failures: 0, openedAt: null, retryAfterMs: 0, lastError: null });
    await failTimes(breaker, 1);
    assert.deepEqual(breaker.snapshot(), {
      name: "db",
      state: "open",
      failures: 1,
      openedAt: clock.now(),
      retryAfterMs: 500,
      lastError: "down",
    });
  });

  it("supports admit/record for callers that cannot wrap their work", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, probeIntervalMs: 60_000 });
    breaker.admit();
    breaker.record(new Error("down"));
    assert.throws(() => breaker.admit(), CircuitOpenError);
    breaker.reset();
    assert.equal(breaker.state, "closed");
    breaker.admit();
    breaker.record();
    assert.equal(breaker.failures, 0);
  });

  it("closes by itself through the background probe once the dependency is back", async () => {
    let up = false;
    let probes = 0;
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      probeIntervalMs: 20,
      probe: () => {
        probes++;
        return up ? Promise.resolve() : Promise.reject(new Error("still down"));
      },
    });
    try {
      await failTimes(breaker, 1);
      await waitFor(() => probes >= 2);
      assert.equal(breaker.state, "open");
      assert.equal(breaker.snapshot().lastError, "still down");
      up = true;
      await waitFor(() => breaker.state === "closed");
      const settled = probes;
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(probes, settled, "no probing while closed");
    } finally {
      breaker.dispose();
    }
  });

  it("stops probing once disposed", async () => {
    let probes = 0;
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      probeIntervalMs: 10,
      probe: () => (probes++, Promise.reject(new Error("down"))),
    });
    await failTimes(breaker, 1);
    breaker.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(probes, 0);
    assert.equal(breaker.state, "open");
  });
});
