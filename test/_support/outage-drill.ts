/**
 * The store-outage drill shared by the fault test (which asserts what
 * happens) and the `faults` bench suite (which reports how fast): a service
 * with configs, jobs and health on a private PostgreSQL, a steady write loop,
 * a health probe loop and a running job; the server is stopped, kept down,
 * and started again while everything keeps running.
 */
import { Type } from "@sinclair/typebox";
import postgres from "postgres";
import type { JobRunner } from "../../src/modules/jobs/types.ts";
import { openDatabase } from "../../src/db/open.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { PrivatePostgres } from "./private-postgres.ts";

/** Options of {@link runOutageDrill}. */
export interface DrillOptions {
  /** Milliseconds the server stays down (default 2000). */
  outageMs?: number;
  /** Milliseconds of normal traffic before the stop and after recovery (default 500). */
  calmMs?: number;
  /** Pause between writes of the write loop (default 20 ms). */
  writeEveryMs?: number;
  /** Pause between health probes (default 50 ms). */
  healthEveryMs?: number;
}

/** One request of a loop. */
export interface DrillSample {
  /** `performance.now()` when it was sent. */
  at: number;
  /** Milliseconds until its answer. */
  ms: number;
  status: number;
  retryAfter: string | null;
  /** The problem `type` of an error answer, or the health `status`. */
  kind: string | undefined;
  /** Health only: the database check's state. */
  database?: string | undefined;
}

/** What the drill saw. */
export interface DrillResult {
  writes: DrillSample[];
  health: DrillSample[];
  /** `performance.now()` when the stop command was given and when it returned. */
  stopAt: number;
  stoppedAt: number;
  /** `performance.now()` of the first connection an independent client made after the start command. */
  acceptingAt: number;
  /** Writes answered 201, and how many of them are missing after recovery. */
  acknowledged: number;
  lost: number;
  /** The running job's final status and error. */
  job: { status: string; error: string | null };
  /** Writes that threw instead of answering (none expected). */
  thrown: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const Settings = Type.Object({ n: Type.Integer() }, { title: "DrillConfig" });

/** Runs the drill against `pg` (left running afterwards). */
export async function runOutageDrill(pg: PrivatePostgres, options: DrillOptions = {}): Promise<DrillResult> {
  const outageMs = options.outageMs ?? 2000;
  const calmMs = options.calmMs ?? 500;
  const db = await openDatabase(pg.url, { postgres: { max: 4, connectTimeoutSeconds: 2, schema: `drill_${Date.now().toString(36)}` } });
  const app = await new ServiceBuilder({ info: { display_name: "Outage drill" } })
    .withDatabase(db)
    .withHealth()
    .withConfig(Settings)
    .withJobs({ heartbeatMs: 200 })
    .build();
  const writes: DrillSample[] = [];
  const health: DrillSample[] = [];
  const ids: string[] = [];
  let thrown = 0;
  let running = true;

  const send = async (method: string, path: string, body?: unknown): Promise<{ sample: DrillSample; json: any }> => {
    const at = performance.now();
    const init: RequestInit = body === undefined
      ? { method }
      : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    const response = await app.handle(new Request(`http://drill${path}`, init));
    const json = await response.json().catch(() => undefined);
    const sample: DrillSample = {
      at,
      ms: performance.now() - at,
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      kind: json?.type ?? json?.status,
    };
    return { sample, json };
  };

  const writeLoop = (async () => {
    for (let n = 0; running; n++) {
      try {
        const { sample, json } = await send("POST", "/api/v1/config", { name: `w${n}`, data: { n } });
        writes.push(sample);
        if (sample.status === 201) ids.push(json.id);
      } catch {
        thrown++;
      }
      await sleep(options.writeEveryMs ?? 20);
    }
  })();
  const healthLoop = (async () => {
    while (running) {
      const { sample, json } = await send("GET", "/api/v1/health");
      sample.database = json?.checks?.database?.state;
      health.push(sample);
      await sleep(options.healthEveryMs ?? 50);
    }
  })();

  const runner = app.chapkit.context.get<JobRunner>("jobs");
  // A job that starts before the outage and finishes while the server is down.
  const jobId = await runner.submit(() => sleep(calmMs + outageMs / 2).then(() => undefined));
  let result: DrillResult;
  try {
    await sleep(calmMs);
    const stopAt = performance.now();
    await pg.stop();
    const stoppedAt = performance.now();
    await sleep(outageMs);
    const started = pg.start();
    const acceptingAt = await firstConnection(pg.url);
    await started;
    // Traffic until both loops have seen the recovery, then a little more.
    while (!writes.some((w) => w.at > acceptingAt && w.status === 201) || !health.some((h) => h.at > acceptingAt && h.status === 200)) {
      await sleep(20);
    }
    await sleep(calmMs);
    running = false;
    await Promise.all([writeLoop, healthLoop]);
    const job = await runner.wait(jobId, 30_000);
    const stored = new Set<string>();
    for (let page = 1;; page++) {
      const { json } = await send("GET", `/api/v1/config?page=${page}&size=1000`);
      for (const item of json.items) stored.add(item.id);
      if (json.items.length < 1000) break;
    }
    result = {
      writes,
      health,
      stopAt,
      stoppedAt,
      acceptingAt,
      acknowledged: ids.length,
      lost: ids.filter((id) => !stored.has(id)).length,
      job: { status: job.status, error: job.error },
      thrown,
    };
  } finally {
    running = false;
    await Promise.allSettled([writeLoop, healthLoop]);
    await app.chapkit.close();
    await db.close();
  }
  return result;
}

/** Polls with fresh connections from the moment it is called; resolves at the first that succeeds. */
async function firstConnection(url: string): Promise<number> {
  for (;;) {
    const sql = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return performance.now();
    } catch {
      await sleep(10);
    } finally {
      await sql.end({ timeout: 0 }).catch(() => {});
    }
  }
}
