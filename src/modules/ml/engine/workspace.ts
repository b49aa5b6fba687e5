/**
 * The chapkit 1.x workspace contract (contract-chapcore §9): what a
 * workspace runner's directory holds, how its files are written (CRLF CSV,
 * `config.yml`), which project files are copied in, and how a workspace is
 * zipped into an artifact and restored from one.
 *
 * @module
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, normalize, relative, sep } from "node:path";
import type { Zippable } from "fflate";
import { ConfigurationError } from "../../../core/errors.ts";
import type { Cell } from "./_columns.ts";
import { DataFrame } from "./dataframe.ts";
import { RuntimeError } from "./errors.ts";
import { pyFloatRepr, pyIntRepr } from "./py-repr.ts";

/** How `config.yml` is laid out: every field at the top (`flat`), or chap-core's model-config shape (`chap_core`). */
export type ConfigFormat = "flat" | "chap_core";

/** A zipped workspace and how its script ended. */
export interface Workspace {
  /** The ZIP bytes (DEFLATE level 9, relative paths). */
  readonly bytes: Uint8Array;
  /** `failed` when the script exited non-zero. */
  readonly status: "success" | "failed";
  /** The script's exit code; null without a script. */
  readonly exitCode: number | null;
  /** The script's standard output; null without a script. */
  readonly stdout: string | null;
  /** The script's standard error; null without a script. */
  readonly stderr: string | null;
}

type Fflate = typeof import("fflate");
type JsYaml = typeof import("js-yaml");

// Optional peer dependencies: imported once, when this module is first loaded; a missing one is reported on use.
async function optionalPeer<T>(load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch {
    return null;
  }
}
const fflateModule = await optionalPeer<Fflate>(() => import("fflate"));
const yamlModule = await optionalPeer<JsYaml>(() => import("js-yaml"));

function required<T>(module: T | null, name: string): T {
  if (module) return module;
  throw new ConfigurationError(`Workspace runners need the ${name} package: bun add ${name} (or npm install ${name})`);
}

const fflate = (): Fflate => required(fflateModule, "fflate");
const yaml = (): JsYaml => required(yamlModule, "js-yaml");

const RESERVED = ["prediction_periods", "additional_continuous_covariates"];

/**
 * The text of `config.yml`: `flat` writes every field at the top level;
 * `chap_core` keeps the two reserved fields at the top and nests the rest
 * under `user_option_values`.
 */
export function configYaml(config: Record<string, unknown>, format: ConfigFormat = "flat"): string {
  let document: Record<string, unknown> = config;
  if (format === "chap_core") {
    const top: Record<string, unknown> = {};
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) (RESERVED.includes(key) ? top : options)[key] = value;
    document = { ...top, user_option_values: options };
  }
  return yaml().dump(document, { sortKeys: false, lineWidth: -1 });
}

function pyCell(value: Cell | undefined, float: boolean): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "";
    return float || !Number.isInteger(value) ? pyFloatRepr(value) : pyIntRepr(value);
  }
  return String(value);
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * A frame as Python's `csv` module writes it: CRLF line ends, minimal
 * quoting, null as an empty field, `True`/`False`, numbers as Python's
 * `str()` (floats keep `.0`).
 */
export function csvCrlf(frame: DataFrame): string {
  const columns = frame.columns;
  const floats = columns.map((name) => frame.dtype(name) === "float");
  const values = columns.map((name) => frame.values(name));
  const lines = [columns.map(quote).join(",")];
  for (let row = 0; row < frame.rowCount; row++) {
    lines.push(columns.map((_, c) => quote(pyCell(values[c]![row], floats[c]!))).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function inferColumn(texts: readonly string[]): Cell[] {
  const present = texts.filter((text) => text !== "");
  const lower = present.map((text) => text.toLowerCase());
  if (present.length > 0 && lower.every((text) => ["true", "yes", "false", "no"].includes(text))) {
    return texts.map((text) => text === "" ? null : ["true", "yes"].includes(text.toLowerCase()));
  }
  const isInt = (text: string): boolean => /^[+-]?\d+$/.test(text.trim());
  const isNumber = (text: string): boolean => text.trim() !== "" && Number.isFinite(Number(text));
  if (present.every(isInt) || present.every(isNumber)) return texts.map((text) => text === "" ? null : Number(text));
  return texts.map((text) => text === "" ? null : text);
}

/**
 * Reads a runner's `predictions.csv` as chapkit 1.x does: per column, empty
 * fields are null, `true/yes/false/no` (any case) make booleans, then
 * integers, then floats; other mixes stay strings.
 */
export function readPredictionsCsv(text: string): DataFrame {
  const [header = [], ...rows] = parseRaw(text);
  const columns = header.map((_, c) => inferColumn(rows.map((row) => row[c] ?? "")));
  const records = rows.map((_, r) => columns.map((column) => column[r] ?? null));
  return new DataFrame(header, records);
}

function parseRaw(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') inQuotes = false;
      else field += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (!(row.length === 1 && row[0] === "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const EXCLUDED_NAMES = new Set([
  ".venv", "venv", "__pycache__", "node_modules", ".git", ".gitignore", ".idea", ".vscode", "build", "dist",
  ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".coverage", "htmlcov", ".ipynb_checkpoints",
  ".DS_Store",
]);
const EXCLUDED_SUFFIXES = [".pyc", ".pyo", ".so", ".dylib", ".db", ".egg-info"];

/** Whether a project entry stays out of a workspace copy (virtualenvs, caches, VCS, IDE, build output, databases). */
export function isExcludedFromWorkspace(name: string): boolean {
  if (EXCLUDED_NAMES.has(name)) return true;
  if (EXCLUDED_SUFFIXES.some((suffix) => name.endsWith(suffix))) return true;
  return /\.sqlite\d*(-\w+)?$/.test(name) || /\.db-(wal|shm|journal)$/.test(name);
}

/** Copies a project directory into a workspace, leaving out what {@link isExcludedFromWorkspace} names. */
export async function copyProject(source: string, target: string): Promise<void> {
  for (const entry of await readdir(source, { withFileTypes: true })) {
    if (isExcludedFromWorkspace(entry.name)) continue;
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) {
      await mkdir(to, { recursive: true });
      await copyProject(from, to);
    } else if (entry.isFile()) {
      await copyFile(from, to);
    }
  }
}

async function collect(dir: string, root: string, out: Zippable): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await collect(path, root, out);
    else if (entry.isFile()) out[relative(root, path).split(sep).join("/")] = new Uint8Array(await readFile(path));
  }
}

/**
 * Zips files (relative path → bytes) at DEFLATE level 9 and checks that the
 * archive reads back before it is stored.
 *
 * @throws {RuntimeError} when the archive does not read back.
 * @throws {ConfigurationError} when the optional `fflate` package is not installed.
 */
export function zipFiles(files: Readonly<Record<string, Uint8Array>>): Uint8Array {
  const bytes = fflate().zipSync({ ...files }, { level: 9 });
  try {
    const back = fflate().unzipSync(bytes);
    if (Object.keys(back).length !== Object.keys(files).length) throw new Error("entry count differs");
  } catch (error) {
    throw new RuntimeError(`Workspace zip failed its integrity test: ${(error as Error).message}`);
  }
  return bytes;
}

/** Zips a whole directory with paths relative to it. */
export async function zipDirectory(dir: string): Promise<Uint8Array> {
  const files: Zippable = {};
  await collect(dir, dir, files);
  return zipFiles(files as Record<string, Uint8Array>);
}

/** The files of a workspace zip (relative path → bytes). @throws {RuntimeError} a corrupt archive. */
export function unzipFiles(bytes: Uint8Array): Record<string, Uint8Array> {
  const { unzipSync } = fflate();
  try {
    return unzipSync(bytes);
  } catch (error) {
    throw new RuntimeError(`Training workspace is corrupted: ${(error as Error).message}`);
  }
}

/** Restores a workspace zip into a directory; entries that would leave it are refused. */
export async function unzipInto(bytes: Uint8Array, dir: string): Promise<void> {
  for (const [name, content] of Object.entries(unzipFiles(bytes))) {
    const path = normalize(join(dir, name));
    if (!path.startsWith(normalize(dir) + sep)) throw new RuntimeError(`Workspace entry ${name} leaves the workspace`);
    if (name.endsWith("/")) {
      await mkdir(path, { recursive: true });
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}
