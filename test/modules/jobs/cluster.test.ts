/**
 * examples/jobs_cluster.ts as real processes sharing one store: every job
 * runs exactly once per attempt, failed attempts are retried, and a job
 * whose process is killed with SIGKILL mid-run is retried by another
 * process once the lease expires (or fails as interrupted without attempts
 * left). PostgreSQL with three processes, one SQLite file with two.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { JobRecord } from "../../../src/modules/jobs/types.ts";
import { postgresStore, RUNTIME, sqliteFileStore, type TestStore } from "../../_support/stores.ts";
import { eventually } from "./_support.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url).href);
const LEASE_MS = 700;

interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

interface Execution {
  job_id: string;
  instance: string;
  attempt: number;
}

async function startInstance(name: string, databaseUrl: string): Promise<Instance> {
  const path = join(ROOT, "examples", "jobs_cluster.ts");
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", path] : [path], {
    cwd: ROOT,
    env: {
      ...process.env,
      NO_COLOR: "1",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      INSTANCE_ID: name,
      CHAPKIT_JOB_LEASE_MS: String(LEASE_MS),
      JOB_CONCURRENCY: "2",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  child.stderr!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = output.match(/listening on (http:\/\/\S+)/);
    if (match) return { name, child, url: match[1]!.replace("0.0.0.0", "127.0.0.1"), exited };
    if (gone || Date.now() > deadline) throw new Error(`instance ${name} did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function enqueue(instance: Instance, payload: Record<string, number>, maxAttempts: number): Promise<string> {
  const response = await fetch(`${instance.url}/api/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "record", payload, max_attempts: maxAttempts, backoff: { delay_ms: 20 } }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as JobRecord).id;
}

async function job(instance: Instance, id: string): Promise<JobRecord> {
  return (await (await fetch(`${instance.url}/api/v1/jobs/${id}`)).json()) as JobRecord;
}

async function executions(instance: Instance): Promise<Execution[]> {
  return (await (await fetch(`${instance.url}/api/v1/executions`)).json()) as Execution[];
}

function finished(record: JobRecord): boolean {
  return record.status === "completed" || record.status === "failed";
}

for (const [makeStore, count] of [[postgresStore, 3], [sqliteFileStore, 2]] as const) {
  const store: TestStore = makeStore();
  describe(`a cluster of ${count} processes on ${store.kind}`, () => {
    const instances: Instance[] = [];

    // Starting the processes can take long on a loaded machine: more than the 5 s default.
    before(async () => {
      const db = await store.open();
      await db.close();
      const url = store.url();
      // The first instance migrates; the others start against the migrated store at once.
      instances.push(await startInstance("a", url));
      instances.push(...await Promise.all(["b", "c"].slice(0, count - 1).map((name) => startInstance(name, url))));
    }, { timeout: 60_000 });
    after(async () => {
      for (const instance of instances) instance.child.kill("SIGTERM");
      await Promise.all(instances.map((instance) => instance.exited));
      await store.cleanup();
    });

    test("every job runs exactly once per attempt; a job failing its first attempt is retried", async () => {
      const [first] = instances;
      const plain = await Promise.all(Array.from({ length: 12 }, () => enqueue(first!, { sleep_ms: 30 }, 1)));
      const flaky = await Promise.all(Array.from({ length: 3 }, () => enqueue(first!, { fail_times: 1 }, 2)));
      const all = [...plain, ...flaky];
      await eventually(async () => (await Promise.all(all.map((id) => job(first!, id)))).every(finished), 30_000);
      for (const id of all) assert.equal((await job(first!, id)).status, "completed");
      const rows = await executions(first!);
      for (const id of plain) assert.deepEqual(rows.filter((row) => row.job_id === id).map((row) => row.attempt), [1]);
      for (const id of flaky) {
        assert.deepEqual(rows.filter((row) => row.job_id === id).map((row) => row.attempt).sort(), [1, 2]);
        assert.match(String((await job(first!, id)).last_error), /Failing on purpose: attempt 1/);
      }
    });

    test("a job whose process is SIGKILLed mid-run is retried elsewhere after the lease, or fails as interrupted", async () => {
      const [first] = instances;
      const retried = await enqueue(first!, { sleep_ms: 1_500 }, 2);
      const single = await enqueue(first!, { sleep_ms: 1_500 }, 1);
      let owners: string[] = [];
      await eventually(async () => {
        const rows = await executions(first!);
        owners = [retried, single].map((id) => rows.find((row) => row.job_id === id)?.instance ?? "");
        return owners.every((owner) => owner !== "");
      }, 20_000);
      // The process running the retried job dies; the single job dies with it when it ran there too
      // (with two processes the jobs may have gone to different ones, and then the single job ends normally).
      const [retriedOwner, singleOwner] = owners;
      const victims = instances.filter((instance) => instance.name === retriedOwner);
      const survivor = instances.find((instance) => instance.name !== retriedOwner)!;
      const singleKilled = singleOwner === retriedOwner;
      for (const victim of victims) victim.child.kill("SIGKILL");
      await Promise.all(victims.map((victim) => victim.exited));

      await eventually(async () => finished(await job(survivor, retried)) && finished(await job(survivor, single)), 30_000);
      const again = await job(survivor, retried);
      assert.equal(again.status, "completed");
      assert.equal(again.attempts, 2);
      assert.match(String(again.last_error), /^JobInterrupted: /);
      const interrupted = await job(survivor, single);
      if (singleKilled) {
        assert.equal(interrupted.status, "failed");
        assert.match(String(interrupted.error), /^JobInterrupted: Job was interrupted: its instance /);
        assert.equal(interrupted.dead_letter, true);
      } else {
        assert.equal(interrupted.status, "completed");
        assert.equal(interrupted.attempts, 1);
      }

      const rows = await executions(survivor);
      const retriedRows = rows.filter((row) => row.job_id === retried).sort((a, b) => a.attempt - b.attempt);
      assert.deepEqual(retriedRows.map((row) => row.attempt), [1, 2]);
      assert.notEqual(retriedRows[1]!.instance, retriedRows[0]!.instance);
      assert.ok(!victims.some((victim) => victim.name === retriedRows[1]!.instance));
      assert.deepEqual(rows.filter((row) => row.job_id === single).map((row) => row.attempt), [1]);
    });
  });
}
