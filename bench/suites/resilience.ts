// resilience: the per-request cost of each edge feature when it is on, in
// requests/s through app.handle on one route answering ~2 KB of JSON, each
// measured beside the same service with every feature off (request timeout
// 0) in the same run: the request timeout, the in-flight cap, rate limiting
// in memory and in Redis (when 127.0.0.1:6379 answers), CORS, compression
// (brotli) and all of them together. Plus the cost of one feature-flag
// evaluation (rule on a header and the role, 25 % rollout, warm cache) in
// ns, beside a plain on flag.
import { Elysia } from "elysia";
import type { SettingsInput } from "../../src/core/settings/schema.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { type FlagManager, FLAGS_KEY } from "../../src/modules/flags/mod.ts";
import { type BenchRow, compare, type Suite, type SuiteContext } from "../lib/types.ts";

const payload = { rows: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `row ${i}`, value: i * 1.5 })) };
const OFF: SettingsInput = { http: { requestTimeoutMs: 0 } };
const HIGH_LIMIT = [{ name: "bench", limit: 1_000_000_000, windowSeconds: 60, by: ["address" as const] }];

async function build(settings: SettingsInput): Promise<ServiceApp> {
  return new ServiceBuilder({ info: { display_name: "Bench" }, settings })
    .use(new Elysia().get("/rows", () => payload))
    .build();
}

async function redisReachable(): Promise<boolean> {
  try {
    const { default: Redis } = await import("ioredis");
    const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on("error", () => {});
    await redis.connect();
    await redis.quit();
    return true;
  } catch {
    return false;
  }
}

/**
 * Requests/s of `app` and of `off` over `count` sequential requests each,
 * after a warm-up, in alternating blocks so that the machine's drift hits
 * both alike.
 */
async function rates(app: ServiceApp, off: ServiceApp, count: number, headers: Record<string, string>): Promise<[number, number]> {
  const send = async (target: ServiceApp): Promise<void> => {
    const response = await target.handle(new Request("http://localhost/rows", { headers }));
    await response.arrayBuffer();
  };
  for (let i = 0; i < 200; i++) await send(app), await send(off);
  const BLOCK = 250;
  let onMs = 0;
  let offMs = 0;
  for (let done = 0; done < count; done += BLOCK) {
    let started = performance.now();
    for (let i = 0; i < BLOCK; i++) await send(app);
    onMs += performance.now() - started;
    started = performance.now();
    for (let i = 0; i < BLOCK; i++) await send(off);
    offMs += performance.now() - started;
  }
  const total = Math.ceil(count / BLOCK) * BLOCK;
  return [total / (onMs / 1000), total / (offMs / 1000)];
}

/** Nanoseconds per `flags.enabled` of a flag with a rule and a 25 % rollout, and of a plain on flag. */
async function flagEvaluation(count: number): Promise<[number, number]> {
  const app = await new ServiceBuilder({ info: { display_name: "Bench" }, databaseUrl: "sqlite::memory:" }).withFlags().build();
  try {
    const flags = app.chapkit.context.get<FlagManager>(FLAGS_KEY);
    await flags.create({ name: "plain" });
    await flags.create({ name: "ruled", percentage: 25, rule: '$user.role = "admin" || $request.header.x-beta = "1"' });
    const request = new Request("http://bench.local/x", { headers: { "x-beta": "1" } });
    const user = { id: "u", role: "viewer" };
    const time = async (name: string): Promise<number> => {
      await flags.enabled(name, { key: "warm", user, request });
      const started = performance.now();
      for (let i = 0; i < count; i++) await flags.enabled(name, { key: `key-${i}`, user, request });
      return (performance.now() - started) * 1e6 / count;
    };
    return [await time("ruled"), await time("plain")];
  } finally {
    await app.chapkit.close();
  }
}

export const suite: Suite = {
  name: "resilience",
  description: "Overhead of the request timeout, in-flight cap, rate limits (memory, Redis), CORS and compression, each against all off",
  async run(context: SuiteContext): Promise<BenchRow[]> {
    const count = context.quick ? 2000 : 10_000;
    const headers = { origin: "https://app.example.org", "accept-encoding": "br, gzip" };
    const features: Array<[string, SettingsInput]> = [
      ["request timeout (30 s)", { http: { requestTimeoutMs: 30_000 } }],
      ["in-flight cap (1024)", { ...OFF, load: { maxInFlight: 1024 } }],
      ["rate limit, memory", { ...OFF, rateLimit: { enabled: true, policies: HIGH_LIMIT } }],
      ["CORS", { ...OFF, cors: { enabled: true, origins: ["https://app.example.org"] } }],
      ["compression (brotli, 2 KB)", { ...OFF, compression: { enabled: true, thresholdBytes: 1024 } }],
    ];
    if (await redisReachable()) {
      features.push(["rate limit, Redis", { ...OFF, rateLimit: { enabled: true, store: "redis", keyPrefix: `bench:${Date.now()}:`, policies: HIGH_LIMIT } }]);
    } else {
      context.log("resilience: Redis on 127.0.0.1:6379 does not answer; the Redis row is skipped");
    }
    features.push(["all of the above", {
      http: { requestTimeoutMs: 30_000 },
      load: { maxInFlight: 1024 },
      rateLimit: { enabled: true, policies: HIGH_LIMIT },
      cors: { enabled: true, origins: ["https://app.example.org"] },
      compression: { enabled: true, thresholdBytes: 1024 },
    }]);
    const off = await build(OFF);
    const rows: BenchRow[] = [];
    try {
      for (const [name, settings] of features) {
        const app = await build(settings);
        try {
          const [value, baseline] = await rates(app, off, count, headers);
          context.log(`resilience: ${name}: ${value.toFixed(0)} req/s against ${baseline.toFixed(0)} with everything off`);
          rows.push(compare({ suite: "resilience", case: name, store: "-", metric: "throughput", unit: "req/s" }, value, baseline, true));
        } finally {
          await app.chapkit.close();
        }
      }
    } finally {
      await off.chapkit.close();
    }
    const [ruled, plain] = await flagEvaluation(context.quick ? 20_000 : 200_000);
    context.log(`resilience: flag evaluation: ${ruled.toFixed(0)} ns with a rule and 25 % rollout, ${plain.toFixed(0)} ns for a plain flag`);
    rows.push(compare({ suite: "resilience", case: "flag evaluation (rule + 25 % rollout)", store: "-", metric: "latency", unit: "ns/eval" }, ruled, plain, false));
    return rows;
  },
};
