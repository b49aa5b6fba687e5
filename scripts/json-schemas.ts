/**
 * Writes the JSON Schemas chapkit publishes for editors and validators:
 *
 * - `schemas/settings.schema.json`: the config file (`CHAPKIT_CONFIG_FILE`), from `SettingsSchema`;
 * - `schemas/config-payload.schema.json`: the body of `POST`/`PUT /api/v1/config` (a service's own
 *   `data` schema is at `GET /api/v1/config/$schema`).
 *
 * Run with `bun scripts/json-schemas.ts` after changing the settings; a test fails while the files
 * are stale. Pass `--check` to only compare.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { SettingsSchema } from "../src/core/settings/schema.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url).href);

const ConfigPayload = Type.Object({
  id: Type.Optional(Type.String({ pattern: "^[0-9A-HJKMNP-TV-Z]{26}$", description: "A ULID; omitted to let the service choose one" })),
  name: Type.String({ description: "The config's name" }),
  data: Type.Object({}, { additionalProperties: true, description: "Validated against the service's config schema (GET /api/v1/config/$schema)" }),
  tags: Type.Optional(Type.Array(Type.String())),
}, { additionalProperties: false });

/** A config file sets only what it changes: no key is required at any depth. */
function optionalEverywhere(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(optionalEverywhere);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== "required").map(([key, value]) => [key, optionalEverywhere(value)]));
}

/** The files and their JSON text. */
export function jsonSchemaFiles(): Record<string, string> {
  const document = (title: string, schema: unknown): string =>
    `${JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", title, ...(schema as object) }, null, 2)}\n`;
  return {
    "schemas/settings.schema.json": document("chapkit settings file", optionalEverywhere(JSON.parse(JSON.stringify(SettingsSchema)))),
    "schemas/config-payload.schema.json": document("chapkit config payload", JSON.parse(JSON.stringify(ConfigPayload))),
  };
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [path, text] of Object.entries(jsonSchemaFiles())) {
    const target = join(ROOT, path);
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch { /* missing */ }
    if (current === text) continue;
    stale++;
    if (check) console.error(`${path} is stale: run bun scripts/json-schemas.ts`);
    else writeFileSync(target, text);
  }
  if (check && stale) process.exit(1);
}
