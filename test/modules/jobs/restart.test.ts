import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { jobInterruptedError } from "../../../src/modules/jobs/job-store.ts";
import { jobsModule } from "../../../src/modules/jobs/mod.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { RUNTIME, sqliteFileStore } from "../../_support/stores.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/crashing-service.ts", import.meta.url).href);

interface Started {
  job_id: string;
  instance_id: string;
}

/** Starts the fixture with this runtime's executable and resolves with its first stdout line, parsed. */
function startFixture(url: string): { child: ReturnType<typeof spawn>; started: Promise<Started> } {
  const args = RUNTIME === "bun" ? [FIXTURE, url] : ["run", "-A", FIXTURE, url];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  const started = new Promise<Started>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`The fixture did not start within 60 s: ${stderr}`)), 60_000);
    child.stdout!.on("data", (chunk: Uint8Array) => {
      stdout += new TextDecoder().decode(chunk);
      const line = stdout.split("\n").find((text) => text.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Started);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The fixture exited early (${code}): ${stderr}`));
    });
  });
  return { child, started };
}

describe("jobs after a crash", () => {
  const store = sqliteFileStore();
  after(() => store.cleanup());

  test("a job running when its process is killed with SIGKILL is failed as interrupted after restart", async () => {
    await (await store.open()).close();
    const url = store.url();
    const { child, started } = startFixture(url);
    const { job_id, instance_id } = await started;
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;

    const app = await new ServiceBuilder({ info: { display_name: "Restarted" } })
      .withDatabase(url)
      .module(jobsModule())
      .build();
    try {
      const response = await app.handle(new Request(`http://localhost/api/v1/jobs/${job_id}`));
      assert.equal(response.status, 200);
      const record = await response.json() as Record<string, unknown>;
      assert.equal(record.status, "failed");
      assert.equal(record.error, jobInterruptedError(instance_id));
      assert.match(String(record.error), /interrupted/);
      assert.ok(record.finished_at);
    } finally {
      await app.chapkit.close();
    }
  });
});
