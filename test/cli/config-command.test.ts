import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runBin } from "./_cli.ts";

const dir = mkdtempSync(join(tmpdir(), "chapkit-config-command-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("chapkit config", () => {
  it("shows the effective configuration with secrets masked and sources named", async () => {
    const file = join(dir, "chapkit.json");
    writeFileSync(file, JSON.stringify({ log: { level: "debug" } }));
    const run = await runBin(["config", "--file", file], {
      env: { DATABASE_URL: "postgres://svc:s3cret-pass@db:5432/app", PORT: "9100", CHAPKIT_API_KEYS: "key-one,key-two" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^server\.port = 9100 +# env:PORT; env CHAPKIT_SERVER_PORT, PORT; restart$/m);
    assert.match(run.stdout, /^log\.level = "debug" +# file; .*reloadable$/m);
    assert.match(run.stdout, /^database\.url = "postgres:\/\/svc:\*{8}@db:5432\/app"/m);
    assert.match(run.stdout, /^auth\.apiKeys = \["\*{8}","\*{8}"\]/m);
    assert.doesNotMatch(run.stdout, /s3cret-pass|key-one|key-two/);
  });

  it("prints JSON with --json", async () => {
    const run = await runBin(["config", "--json"], { env: { CHAPKIT_JWT_SECRET: "j".repeat(40) } });
    assert.equal(run.code, 0, run.stderr);
    const settings = JSON.parse(run.stdout);
    assert.equal(settings.auth.jwtSecret, "********");
    assert.equal(settings.server.port, 8000);
  });

  it("exits 1 naming a bad variable and its expected form", async () => {
    const run = await runBin(["config"], { env: { LOG_LEVEL: "chatty" } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /LOG_LEVEL="chatty": expected one of debug, info, warn, error/);
  });
});
