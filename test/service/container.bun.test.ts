import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { startService } from "../_support/service-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped. */
function dockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n\s*/g, " ");
  return joined.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith("#")).map((line) => {
    const space = line.indexOf(" ");
    return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
  });
}

function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions.filter((instruction) => instruction.keyword === "ENV")) {
    for (const match of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[match[1]!] = match[2]!;
  }
  return env;
}

const instructions = dockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const compose = load(readFileSync(join(ROOT, "compose.yml"), "utf8")) as {
  services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; stop_grace_period?: string }>;
};
const dir = mkdtempSync(join(tmpdir(), "chapkit-container-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("the Dockerfile", () => {
  it("builds on the official Bun image and runs the service as a non-root user", () => {
    assert.match(instructions.find((i) => i.keyword === "FROM")!.args, /^oven\/bun:1/);
    assert.equal(instructions.find((i) => i.keyword === "USER")!.args, "bun");
    assert.equal(instructions.find((i) => i.keyword === "STOPSIGNAL")!.args, "SIGTERM");
    assert.match(instructions.find((i) => i.keyword === "HEALTHCHECK")!.args, /\/health\/live/);
    assert.deepEqual(JSON.parse(instructions.find((i) => i.keyword === "CMD")!.args), ["bun", "run", "examples/quickstart.ts"]);
    assert.equal(envOf(instructions).HOST, "0.0.0.0");
  });
});

describe("compose.yml", () => {
  it("runs the service against PostgreSQL once the database is healthy", () => {
    const { db, app } = compose.services;
    assert.match(db!.image!, /^postgres:/);
    assert.equal(app!.build, ".");
    assert.equal(app!.depends_on!.db!.condition, "service_healthy");
    assert.match(app!.environment!.DATABASE_URL!, /^postgres:\/\/chapkit:chapkit@db:5432\/chapkit$/);
    assert.ok(app!.healthcheck!.test.join(" ").includes("/health/ready"));
    const drainSeconds = Number(app!.environment!.CHAPKIT_SERVER_DRAIN_DELAY_MS) / 1000;
    assert.ok(Number.parseInt(app!.stop_grace_period!, 10) > drainSeconds + 10, "SIGKILL comes after the drain and the grace");
  });
});

describe("the image's command", () => {
  it("serves with the image's environment, answers the probes and drains on SIGTERM", async () => {
    const cmd = JSON.parse(instructions.find((i) => i.keyword === "CMD")!.args) as string[];
    assert.equal(cmd[0], "bun");
    const service = await startService("", {
      ...envOf(instructions),
      ...compose.services.app!.environment,
      DATABASE_URL: `sqlite:${join(dir, "app.db")}`,
      PORT: "0",
      CHAPKIT_SERVER_DRAIN_DELAY_MS: "100",
    }, { command: cmd.slice(1), cwd: ROOT, ready: /"url":"http:\/\/127\.0\.0\.1:(\d+)"/ });
    try {
      assert.ok(service.port > 0, service.output());
      assert.equal((await fetch(`${service.url}/health/live`)).status, 200);
      const ready = await fetch(`${service.url}/health/ready`);
      assert.equal(ready.status, 200);
      assert.equal((await ready.json()).checks.database.state, "healthy");
    } finally {
      assert.equal(await service.stop("SIGTERM"), 0);
    }
    assert.match(service.output(), /"event":"service.draining","reason":"SIGTERM"/);
  });
});
