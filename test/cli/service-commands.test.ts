import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCaptured, servedSeedProject } from "./_cli.ts";

describe("commands against a running service", () => {
  const project = servedSeedProject("svc");
  const dir = project.dir;

  it("openapi prints the OpenAPI document, or writes it with --out", async () => {
    const printed = await runCaptured(["openapi", "--url", project.service().url]);
    assert.equal(printed.code, 0, printed.stderr);
    const document = JSON.parse(printed.stdout) as { openapi: string; paths: Record<string, unknown> };
    assert.ok(document.openapi.startsWith("3."));
    assert.ok("/api/v1/config" in document.paths);
    const written = await runCaptured(["openapi", "--url", project.service().url, "--out", "openapi.json"], dir);
    assert.equal(written.code, 0, written.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "openapi.json"), "utf8")), document);
  });

  it("artifact upload stores a file's bytes, list shows it and download returns the same bytes", async () => {
    writeFileSync(join(dir, "data.csv"), "a,b\n1,2\n");
    const uploaded = await runCaptured(["artifact", "upload", "data.csv", "--url", project.service().url], dir);
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const id = uploaded.stdout.trim();
    assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    const listed = await runCaptured(["artifact", "list", "--url", project.service().url]);
    assert.match(listed.stdout, new RegExp(`${id} .*text/csv, 8 bytes`));
    const downloaded = await runCaptured(["artifact", "download", id, "--url", project.service().url, "--out", "copy.csv"], dir);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(readFileSync(join(dir, "copy.csv"), "utf8"), "a,b\n1,2\n");
  });

  it("artifact download of an artifact without a payload prints its JSON data", async () => {
    const created = await fetch(`${project.service().url}/api/v1/artifacts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { score: 0.9 } }),
    });
    const { id } = await created.json() as { id: string };
    const run = await runCaptured(["artifact", "download", id, "--url", project.service().url]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { score: 0.9 });
  });

  it("names the status and the problem detail when the service refuses, and exits 1", async () => {
    const run = await runCaptured(["artifact", "download", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--url", project.service().url]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /answered 404: .*not found/i);
  });
});
