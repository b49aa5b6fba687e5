import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Elysia } from "elysia";
import { MemoryRateLimitStore } from "../../src/core/rate-limit.ts";
import type { SettingsInput } from "../../src/core/settings/schema.ts";
import { RedisRateLimitStore } from "../../src/integrations/redis-rate-limit.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { call } from "../_support/http.ts";
import { startService } from "../_support/service-process.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const script = fileURLToPath(new URL("./_limited-server.ts", import.meta.url).href);
const prefix = `chapkit-test:${process.pid}:${Date.now()}:`;

async function service(rateLimit: SettingsInput["rateLimit"], withAuthKeys?: string[]): Promise<ServiceApp> {
  let builder = new ServiceBuilder({ info: { display_name: "Limits" }, settings: { rateLimit: { enabled: true, ...rateLimit } } })
    .withHealth()
    .use(new Elysia().get("/a", () => ({ a: 1 })).get("/b", () => ({ b: 1 })).post("/b", () => ({ b: 2 })));
  if (withAuthKeys) builder = builder.withAuth({ staticKeys: withAuthKeys, staticKeyRole: "viewer", jwtSecret: "j".repeat(40) });
  return builder.build();
}

describe("the sliding window", () => {
  const policy = { name: "p", limit: 3, windowSeconds: 10 };

  it("allows the limit in a window and refuses the next with the wait", async () => {
    const store = new MemoryRateLimitStore();
    const t0 = 1_000_000_000_000; // a window boundary
    for (let i = 0; i < 3; i++) assert.equal((await store.consume("k", policy, t0 + i)).allowed, true);
    const refused = await store.consume("k", policy, t0 + 5);
    assert.deepEqual([refused.allowed, refused.remaining, refused.retryAfterSeconds], [false, 0, 10]);
  });

  it("weights the previous window by the part the sliding window still covers", async () => {
    const store = new MemoryRateLimitStore();
    const t0 = 1_000_000_000_000;
    for (let i = 0; i < 3; i++) await store.consume("k", policy, t0 + i);
    // 2 s into the next window, 80 % of the previous 3 still count: 2.4 used, no room for one more.
    assert.equal((await store.consume("k", policy, t0 + 12_000)).allowed, false);
    // 7 s in, 30 % count (0.9): two more fit.
    assert.equal((await store.consume("k", policy, t0 + 17_000)).allowed, true);
    assert.equal((await store.consume("k", policy, t0 + 17_001)).allowed, true);
    assert.equal((await store.consume("k", policy, t0 + 17_002)).allowed, false);
  });
});

describe("rate-limited routes", () => {
  let app: ServiceApp;
  before(async () => {
    app = await service({ policies: [{ name: "default", limit: 2, windowSeconds: 60, by: ["address"] }, { name: "writes", limit: 1, windowSeconds: 60, by: ["route"], routes: ["POST /b"] }] });
  });
  after(() => app.chapkit.close());

  it("sends the IETF RateLimit fields and answers 429 problems past the limit", async () => {
    const first = await call(app, "GET", "/a");
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("ratelimit-policy"), '"default";q=2;w=60');
    assert.match(first.headers.get("ratelimit")!, /^"default";r=1;t=\d+$/);
    assert.equal((await call(app, "GET", "/a")).status, 200);
    const refused = await call(app, "GET", "/a");
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.match(refused.headers.get("ratelimit")!, /^"default";r=0;t=\d+$/);
    const problem = await refused.json();
    assert.equal(problem.type, "urn:chapkit:error:rate-limited");
    assert.equal(problem.status, 429);
  });

  it("never limits health", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await call(app, "GET", "/api/v1/health")).status, 200);
  });
});

describe("rate-limit dimensions", () => {
  it("counts per route", async () => {
    const app = await service({ policies: [{ name: "per-route", limit: 1, windowSeconds: 60, by: ["route"] }] });
    try {
      assert.equal((await call(app, "GET", "/a")).status, 200);
      assert.equal((await call(app, "GET", "/b")).status, 200);
      assert.equal((await call(app, "POST", "/b", {})).status, 200, "another method is another route");
      assert.equal((await call(app, "GET", "/a")).status, 429);
    } finally {
      await app.chapkit.close();
    }
  });

  it("counts per API key and per user", async () => {
    const keys = ["first-static-key-0123456789abcdef", "second-static-key-0123456789abcdef"];
    for (const by of ["key", "user"] as const) {
      const app = await service({ policies: [{ name: by, limit: 1, windowSeconds: 60, by: [by] }] }, keys);
      try {
        for (const key of keys) assert.equal((await call(app, "GET", "/a", undefined, { "X-API-Key": key })).status, 200, `${by} ${key}`);
        assert.equal((await call(app, "GET", "/a", undefined, { "X-API-Key": keys[0]! })).status, 429, by);
      } finally {
        await app.chapkit.close();
      }
    }
  });

  it("applies a reload of the limits at once", async () => {
    const app = await service({ enabled: false });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call(app, "GET", "/a")).status, 200);
      Object.assign(app.chapkit.context.settings.rateLimit, { enabled: true, policies: [{ name: "now", limit: 1, windowSeconds: 60, by: ["address"] }] });
      assert.equal((await call(app, "GET", "/a")).status, 200);
      assert.equal((await call(app, "GET", "/a")).status, 429);
    } finally {
      await app.chapkit.close();
    }
  });
});

describe("the Redis store", () => {
  after(async () => {
    const { Redis } = await import("ioredis");
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("gives two processes sharing Redis one combined limit", async () => {
    const env = {
      CHAPKIT_RATE_LIMIT_ENABLED: "true",
      CHAPKIT_RATE_LIMIT_STORE: "redis",
      REDIS_URL,
      CHAPKIT_RATE_LIMIT_KEY_PREFIX: prefix,
      CHAPKIT_RATE_LIMIT_POLICIES: JSON.stringify([{ name: "shared", limit: 5, windowSeconds: 60, by: ["route"] }]),
    };
    const [one, two] = await Promise.all([startService(script, env), startService(script, env)]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        for (const instance of [one, two]) {
          const response = await fetch(`${instance.url}/ping`);
          statuses.push(response.status);
          await response.body?.cancel();
        }
      }
      assert.equal(statuses.filter((status) => status === 200).length, 5, String(statuses));
      assert.equal(statuses.filter((status) => status === 429).length, 3, String(statuses));
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it("refuses a start-up whose Redis cannot be reached, naming the cause", async () => {
    await assert.rejects(RedisRateLimitStore.connect("redis://127.0.0.1:1", { keyPrefix: prefix }), /ECONNREFUSED|connect/i);
  });
});
