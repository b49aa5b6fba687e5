import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMANDS } from "../../src/cli/commands.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { CLI_VERSION } from "../../src/cli/version.ts";
import { sampleValue } from "../../src/cli/conformance/_sample.ts";
import { ROOT, runBin, runCaptured } from "./_cli.ts";

const names = COMMANDS.map((factory) => factory({} as CliContext).name());

describe("chapkit program", () => {
  it("lists every command in --help", async () => {
    const run = await runCaptured(["--help"]);
    assert.equal(run.code, 0);
    for (const name of names) assert.match(run.stdout, new RegExp(`^  ${name}\\b`, "m"));
  });

  it("prints usage for --help of every command", async () => {
    for (const name of names) {
      const run = await runCaptured([name, "--help"]);
      assert.equal(run.code, 0, `${name} --help`);
      assert.match(run.stdout, new RegExp(`^Usage: chapkit ${name}`, "m"));
    }
  });

  it("reports the package version", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(CLI_VERSION, pkg.version);
    const run = await runCaptured(["--version"]);
    assert.equal(run.stdout.trim(), pkg.version);
  });

  it("exits 2 with usage on an unknown command or a missing required option", async () => {
    const unknown = await runCaptured(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = await runCaptured(["test"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '-u, --url <url>' not specified/);
  });

  it("runs as an executable of this runtime", async () => {
    const run = await runBin(["--version"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), CLI_VERSION);
  });
});

describe("sample values for config data", () => {
  it("fills required fields by type and bounds, takes defaults and enums, and leaves optional fields out", () => {
    const schema = {
      type: "object",
      required: ["count", "name", "kind", "flags", "nested", "ratio"],
      properties: {
        count: { type: "integer", minimum: 3 },
        name: { type: "string", minLength: 4 },
        kind: { enum: ["a", "b"] },
        flags: { type: "array", minItems: 1, items: { type: "boolean" } },
        nested: { $ref: "#/$defs/Nested" },
        ratio: { type: "number", default: 0.5 },
        optional: { type: "string" },
      },
      $defs: { Nested: { type: "object", required: ["x"], properties: { x: { type: "integer" } } } },
    };
    assert.deepEqual(sampleValue(schema), {
      count: 3,
      name: "xxxx",
      kind: "a",
      flags: [false],
      nested: { x: 1 },
      ratio: 0.5,
    });
  });
});
