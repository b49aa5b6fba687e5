import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TEMPLATES } from "../../src/cli/init/templates.ts";
import { packedTarball, ROOT, run, scratchDir, stripAnsi } from "./_process.ts";

const CLI = join(ROOT, "src", "cli", "bin.ts");

/** Starts a generated project's service on a free port and resolves to its URL once it says so. */
async function start(dir: string, runtime: "bun" | "deno", env: Record<string, string>) {
  const cmd = runtime === "bun" ? ["bun", "main.ts"] : ["deno", "run", "-A", "main.ts"];
  const child = Bun.spawn(cmd, {
    cwd: dir,
    env: { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`, PORT: "0", NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  let seen = "";
  const timer = setTimeout(() => child.kill(), 60_000);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the service exited before listening:\n${seen}\n${await stderr}`);
    seen += stripAnsi(new TextDecoder().decode(value));
    const match = / listening on (http:\/\/[\d.:]+)/.exec(seen);
    if (match) {
      clearTimeout(timer);
      reader.releaseLock();
      void child.stdout.cancel().catch(() => undefined);
      return { url: match[1]!, stop: () => (child.kill(), child.exited) };
    }
  }
}

describe("chapkit init", () => {
  const scratch = scratchDir("templates");
  let tarball = "";

  beforeAll(async () => {
    tarball = await packedTarball();
  }, 300_000);

  afterAll(() => scratch.remove(), 60_000); // removing installed projects takes seconds

  for (const runtime of ["bun", "deno"] as const) {
    for (const template of TEMPLATES) {
      test(`a ${runtime} project from the ${template.name} template installs the tarball, starts, passes chapkit test and its own test`, async () => {
        const name = `${template.name}-${runtime}`;
        await run(["bun", CLI, "init", name, "--template", template.name, "--runtime", runtime, "--chapkit", tarball], {
          cwd: scratch.path,
        });
        const dir = join(scratch.path, name);
        const env = { DATABASE_URL: `sqlite:${join(dir, "service.db")}`, ...template.env };
        const service = await start(dir, runtime, env);
        try {
          const health = await fetch(`${service.url}/api/v1/health`);
          expect(health.status).toBe(200);
          const headers = Object.entries(template.env ?? {}).some(([key]) => key === "CHAPKIT_API_KEYS")
            ? ["-H", `X-API-Key: ${template.env!.CHAPKIT_API_KEYS}`]
            : [];
          const conformance = await run(["bun", CLI, "test", "--url", service.url, ...headers], { check: false });
          expect(conformance.stdout).toContain("0 failed");
          expect(conformance.code).toBe(0);
        } finally {
          await service.stop();
        }
        // Deno's type check runs once for every project below, not per project here.
        const ownTest = runtime === "bun" ? ["bun", "test"] : ["deno", "test", "-A", "--no-check"];
        const result = await run(ownTest, { cwd: dir, env: { DATABASE_URL: undefined } });
        expect(stripAnsi(result.stdout + result.stderr)).toMatch(/0 fail/);
      }, 180_000);
    }
  }

  test("every generated Deno project type-checks (main.ts and main.test.ts)", async () => {
    // One deno check over copies inside one project shares the type-checking of chapkit itself.
    const host = join(scratch.path, "basic-deno");
    const files: string[] = [];
    for (const template of TEMPLATES) {
      const target = join(host, "check", template.name);
      mkdirSync(target, { recursive: true });
      for (const file of ["main.ts", "main.test.ts"]) {
        copyFileSync(join(scratch.path, `${template.name}-deno`, file), join(target, file));
        files.push(join("check", template.name, file));
      }
    }
    const checked = await run(["deno", "check", ...files], { cwd: host });
    expect(checked.code).toBe(0);
  }, 300_000);
});
