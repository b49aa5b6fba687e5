import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as chapkit from "chapkit";
import * as testing from "chapkit/testing";
import * as ml from "chapkit/ml";
import * as onnx from "chapkit/onnx";
import { jsonSchemaFiles } from "../../scripts/json-schemas.ts";
import { ROOT } from "./_cli.ts";

const VSCODE = join(ROOT, "editors", "vscode");

describe("editor support", () => {
  it("the published JSON Schemas match the settings schema and the config payload (run bun scripts/json-schemas.ts)", () => {
    for (const [path, text] of Object.entries(jsonSchemaFiles())) {
      assert.equal(readFileSync(join(ROOT, path), "utf8"), text, `${path} is stale`);
    }
    const settings = JSON.parse(readFileSync(join(ROOT, "schemas", "settings.schema.json"), "utf8"));
    assert.equal(settings.properties.server.properties.port.type, "integer");
    assert.ok(!JSON.stringify(settings).includes('"required"'), "a settings file may set any subset of keys");
  });

  it("every snippet parses and imports only names that the chapkit entries export", () => {
    const snippets = JSON.parse(readFileSync(join(VSCODE, "snippets", "chapkit.code-snippets"), "utf8")) as Record<string, { prefix: string; body: string[] }>;
    const exported: Record<string, Record<string, unknown>> = { chapkit, "chapkit/testing": testing, "chapkit/ml": ml, "chapkit/onnx": onnx };
    let checked = 0;
    for (const [title, snippet] of Object.entries(snippets)) {
      assert.match(snippet.prefix, /^ck-/, title);
      for (const match of snippet.body.join("\n").matchAll(/import \{([^}]+)\} from "(chapkit(?:\/(?:testing|ml|onnx))?)"/g)) {
        for (const name of match[1]!.split(",").map((n) => n.trim().replace(/^type\s+/, ""))) {
          assert.ok(name in exported[match[2]!]!, `${title}: "${name}" is not exported by ${match[2]}`);
          checked++;
        }
      }
    }
    assert.equal(checked, 7);
  });

  it("the VS Code manifest points at the snippets and validates settings files with the published schema", () => {
    const manifest = JSON.parse(readFileSync(join(VSCODE, "package.json"), "utf8"));
    for (const entry of manifest.contributes.snippets) assert.ok(existsSync(join(VSCODE, entry.path)));
    assert.equal(manifest.contributes.jsonValidation[0].url, "./schemas/settings.schema.json");
  });
});
