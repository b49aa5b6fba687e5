import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runtimeName } from "../../src/runtime/runtime.ts";
import { ROOT, runCaptured, servedSeedProject } from "./_cli.ts";

const PATH = `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`;

/** Runs a command without blocking the event loop: the service under test answers from this process. */
function exec(cmd: string[], cwd: string): Promise<{ status: number | null; out: string }> {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd, env: { ...process.env, PATH, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk) => void (out += String(chunk)));
  child.stderr!.on("data", (chunk) => void (out += String(chunk)));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, out }));
  });
}

describe("chapkit client", () => {
  const project = servedSeedProject("client");
  const dir = project.dir;

  it("generates a TypeScript client whose typed methods create, read and fail against the running service", async () => {
    const run = await runCaptured(["client", "--lang", "ts", "--url", project.service().url, "--out", "ts"], dir);
    assert.equal(run.code, 0, run.stderr);
    const source = readFileSync(join(dir, "ts", "client.ts"), "utf8");
    assert.match(source, /export type ConfigOut = \{ id: string; created_at: string;/);
    assert.match(source, /createConfig\(body: ConfigIn\): Promise<ConfigOut>/);
    writeFileSync(
      join(dir, "ts", "use.ts"),
      `import { ApiError, Client } from "./client.ts";
const client = new Client({ baseUrl: ${JSON.stringify(project.service().url)} });
const created = await client.createConfig({ name: "from-ts", data: { min_samples: 3, label: "a" } });
const read = await client.getConfig(created.id);
let status = 0;
try { await client.getConfig("01ARZ3NDEKTSV4RRFFQ69G5FAV"); } catch (error) { status = (error as ApiError).status; }
console.log(JSON.stringify({ name: read.name, samples: read.data.min_samples, health: (await client.getHealth()).status, status }));
`,
    );
    const command = runtimeName() === "deno" ? [process.execPath, "run", "-A", "use.ts"] : [process.execPath, "use.ts"];
    const result = await exec(command, join(dir, "ts"));
    assert.equal(result.status, 0, result.out);
    assert.deepEqual(JSON.parse(result.out.trim()), { name: "from-ts", samples: 3, health: "healthy", status: 404 });
    const checked = await exec(["deno", "check", "use.ts"], join(dir, "ts"));
    assert.equal(checked.status, 0, checked.out);
  });

  it("generates a Python client (dataclasses, urllib) that round-trips a config and raises ApiError on a 404", async () => {
    const run = await runCaptured(["client", "--lang", "python", "--url", project.service().url, "--out", "py"], dir);
    assert.equal(run.code, 0, run.stderr);
    const script = `
import client
c = client.Client(${JSON.stringify(project.service().url)})
made = c.create_config(client.ConfigIn(name="from-py", data={"min_samples": 4, "label": "b"}))
assert isinstance(made, client.ConfigOut), type(made)
read = c.get_config(made.id)
assert (read.name, read.data["min_samples"]) == ("from-py", 4), read
try:
    c.get_config("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    raise SystemExit("no error")
except client.ApiError as error:
    assert error.status == 404 and "not found" in str(error).lower(), error
print("ok", c.get_health().status)
`;
    writeFileSync(join(dir, "py", "use.py"), script);
    const result = await exec(["python3", "use.py"], join(dir, "py"));
    assert.equal(result.status, 0, result.out);
    assert.equal(result.out.trim(), "ok healthy");
  });

  it("generates a Go client package, compiled when a Go toolchain is on PATH", async () => {
    const run = await runCaptured(["client", "--lang", "go", "--url", project.service().url, "--out", "go"], dir);
    assert.equal(run.code, 0, run.stderr);
    const source = readFileSync(join(dir, "go", "client.go"), "utf8");
    assert.match(source, /^package client$/m);
    assert.match(source, /func \(c \*Client\) CreateConfig\(ctx context\.Context, body \*ConfigIn\) \(\*ConfigOut, error\)/);
    assert.match(readFileSync(join(dir, "go", "go.mod"), "utf8"), /^module /);
    if (spawnSync("go", ["version"]).status === 0) assert.equal((await exec(["go", "vet", "./..."], join(dir, "go"))).status, 0);
  });

  it("reads the document from a file as well, and needs --url or --file (exit 2)", async () => {
    const document = await (await fetch(`${project.service().url}/openapi.json`)).text();
    writeFileSync(join(dir, "openapi.json"), document);
    const fromFile = await runCaptured(["client", "--lang", "ts", "--file", "openapi.json", "--out", "ts-file"], dir);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(readFileSync(join(dir, "ts-file", "client.ts"), "utf8"), readFileSync(join(dir, "ts", "client.ts"), "utf8"));
    const neither = await runCaptured(["client", "--lang", "ts"], dir);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /--url URL or its document with --file/);
  });
});
