import { readFileSync } from "node:fs";
import { ConfigurationError } from "../errors.ts";
import { expectedForm, fromText, isValid } from "./_parse.ts";
import { type SettingLeaf, settingLeaves } from "./_leaves.ts";

export { type SettingLeaf, settingLeaves };
import type { Settings, SettingsInput } from "./schema.ts";

/** Where a setting's effective value came from: `default`, `code`, `file` or `env:NAME`. */
export type SettingSource = "default" | "code" | "file" | `env:${string}`;

/** A parsed config file. */
export interface SettingsFile {
  /** The path, named in error messages. */
  path: string;
  /** The parsed JSON: an object with the nesting of the settings schema. */
  data: unknown;
}

/** Turns a secret reference (`file:…`, `vault:…`, `aws-sm:…`) into the secret's text. */
export type SecretResolver = (reference: string, setting: string) => Promise<string>;

/** The layers {@link loadSettings} merges, lowest precedence first after the schema defaults. */
export interface SettingsLayers {
  /** Values chosen in code; they replace the schema defaults. */
  code?: SettingsInput;
  /** The config file; it overrides code. */
  file?: SettingsFile;
  /** Environment variables; they override everything. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves secret references in secret settings; without it, references are kept as text. */
  resolveSecret?: SecretResolver;
}

/** Effective settings and, per dotted key, where each value came from. */
export interface LoadedSettings {
  /** The effective, validated settings. */
  settings: Settings;
  /** `server.port` → `env:PORT`, `log.level` → `default`, … */
  sources: Record<string, SettingSource>;
}

const REFERENCE = /^(file|vault|aws-sm):/;

/** Whether `value` is a secret reference (`file:/run/secrets/x`, `vault:…`, `aws-sm:…`). */
export function isSecretReference(value: unknown): value is string {
  return typeof value === "string" && REFERENCE.test(value);
}

/** The value at `path` (e.g. `["server", "port"]`) of nested settings, or undefined. */
export function settingAt(source: unknown, path: readonly string[]): unknown {
  let value = source;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function place(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  ensureGroup(target, path);
  (settingAt(target, path.slice(0, -1)) as Record<string, unknown>)[path[path.length - 1]!] = value;
}

function ensureGroup(target: Record<string, unknown>, path: readonly string[]): void {
  let node = target;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
}

/** Dotted keys of a file's leaves that are no setting, so typos fail loudly. */
function unknownKeys(data: unknown, leaves: readonly SettingLeaf[]): string[] {
  const known = new Set(leaves.map((leaf) => leaf.key));
  const groups = new Set(leaves.flatMap((leaf) => leaf.path.slice(0, -1).map((_, i) => leaf.path.slice(0, i + 1).join("."))));
  const found: string[] = [];
  const walk = (node: unknown, prefix: string): void => {
    for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (known.has(key)) continue;
      if (groups.has(key) && value !== null && typeof value === "object" && !Array.isArray(value)) walk(value, key);
      else found.push(key);
    }
  };
  if (data !== null && typeof data === "object" && !Array.isArray(data)) walk(data, "");
  return found;
}

interface Candidate {
  value: unknown;
  source: SettingSource;
  /** How the problem names where the value came from. */
  origin: string;
  text: boolean;
}

function candidate(leaf: SettingLeaf, layers: SettingsLayers): Candidate | undefined {
  for (const name of leaf.env) {
    const text = layers.env?.[name];
    if (text !== undefined && text !== "") return { value: text, source: `env:${name}`, origin: name, text: true };
  }
  const fromFile = layers.file ? settingAt(layers.file.data, leaf.path) : undefined;
  if (fromFile !== undefined) return { value: fromFile, source: "file", origin: `${leaf.key} in ${layers.file!.path}`, text: false };
  const fromCode = settingAt(layers.code, leaf.path);
  if (fromCode !== undefined) return { value: fromCode, source: "code", origin: `${leaf.key} (set in code)`, text: false };
  return undefined;
}

function shown(value: unknown, leaf: SettingLeaf): string {
  if (leaf.secret) return "(secret)";
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/**
 * Resolves every setting: schema defaults < code < config file < environment
 * (the derived `CHAPKIT_*` name, then standard names such as `PORT`). Secret
 * settings holding a reference are resolved through `resolveSecret`.
 *
 * @throws {ConfigurationError} listing every bad value, each naming the
 * variable (or file key) and the expected form, and every unknown file key.
 */
export async function loadSettings(layers: SettingsLayers = {}): Promise<LoadedSettings> {
  const leaves = settingLeaves();
  const problems: string[] = [];
  if (layers.file) {
    const data = layers.file.data;
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      problems.push(`${layers.file.path}: expected a JSON object of setting groups`);
    } else {
      for (const key of unknownKeys(data, leaves)) problems.push(`${key} in ${layers.file.path}: no such setting`);
    }
  }
  const settings: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const leaf of leaves) {
    const found = candidate(leaf, layers);
    if (!found) {
      const fallback = leaf.schema.default;
      // An unset optional setting still gets its group, so `settings.group.name` reads as undefined.
      if (fallback !== undefined) place(settings, leaf.path, structuredClone(fallback));
      else ensureGroup(settings, leaf.path);
      sources[leaf.key] = "default";
      continue;
    }
    let raw = found.value;
    if (leaf.secret && layers.resolveSecret && isSecretReference(raw)) {
      try {
        raw = await layers.resolveSecret(raw, leaf.key);
        found.text = true;
      } catch (error) {
        problems.push(`${found.origin}: secret reference could not be resolved: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
    }
    const value = found.text && typeof raw === "string" ? fromText(leaf.schema, raw) : raw;
    if (!isValid(leaf.schema, value)) {
      problems.push(`${found.origin}=${shown(raw, leaf)}: expected ${expectedForm(leaf.schema)}`);
      continue;
    }
    place(settings, leaf.path, value);
    sources[leaf.key] = found.source;
  }
  if (problems.length > 0) {
    throw new ConfigurationError(`Invalid configuration: ${problems.join("; ")}`, {
      extensions: { errors: problems },
    });
  }
  return { settings: settings as unknown as Settings, sources };
}

/**
 * Reads a JSON config file.
 *
 * @throws {ConfigurationError} when it cannot be read or is not JSON.
 */
export function readSettingsFile(path: string): SettingsFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigurationError(`Config file ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    return { path, data: JSON.parse(text) };
  } catch (error) {
    throw new ConfigurationError(`Config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}
