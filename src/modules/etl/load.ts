// Loading rows into a collection: read each file, transform each row, validate, then insert or upsert in batches.
import { mkdtempSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TObject } from "@sinclair/typebox";
import type { EntityRecord } from "../../core/entity.ts";
import { BadRequestError, ChapkitError, type FieldError, ValidationError } from "../../core/errors.ts";
import type { Manager } from "../../core/manager.ts";
import type { FilterValue } from "../../core/query/model.ts";
import { readRows, type SourceRow } from "../../http/exchange/import.ts";
import type { EtlFormat, EtlLoad, EtlRowError, EtlTransform } from "./schema.ts";
import type { RunCounts } from "./store.ts";
import { fileStream, formatOf, type SourceObject } from "./sources.ts";

// deno-lint-ignore no-explicit-any
type AnyManager = Manager<EntityRecord, TObject, any>;

/** What {@link loadObjects} reads and where it writes. */
export interface LoadOptions {
  pipeline: string;
  objects: readonly SourceObject[];
  format: EtlFormat | null;
  jsonPath: string | null;
  transform: { name: string; fn: EtlTransform } | null;
  load: Required<EtlLoad>;
  manager: AnyManager;
  signal: AbortSignal;
  /** Runs inside the load's transaction once every row is written (records the S3 objects read). */
  commit(): Promise<void>;
}

/** What a load did. */
export interface LoadReport {
  counts: RunCounts;
  errors: EtlRowError[];
  /** Set when `fail-all` refused the load: why, and nothing was written. */
  refused: string | null;
}

const BATCH = 500;
const MAX_ERRORS = 100;

/** Thrown inside the load's transaction to roll it back when `fail-all` met a row the store refused. */
class Refused extends Error {}

function at(value: unknown, path: string | null): unknown {
  if (!path) return value;
  let current = value;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

async function* jsonRows(body: ReadableStream<Uint8Array>, path: string | null): AsyncGenerator<SourceRow> {
  let document: unknown;
  try {
    document = JSON.parse(await new Response(body).text());
  } catch (error) {
    throw new BadRequestError(`The file is not valid JSON: ${(error as Error).message}`);
  }
  const rows = at(document, path);
  if (!Array.isArray(rows)) {
    throw new BadRequestError(path ? `The JSON document holds no array at ${path}` : "The JSON document is not an array of objects: give json_path");
  }
  for (const value of rows) {
    yield value !== null && typeof value === "object" && !Array.isArray(value)
      ? { value: value as Record<string, unknown> }
      : { error: { loc: [], msg: "Input should be a valid dictionary or object", type: "dict_type" } };
  }
}

function rowsOf(object: SourceObject, body: ReadableStream<Uint8Array>, options: LoadOptions): AsyncGenerator<SourceRow> {
  const format = options.format ?? formatOf(object.name);
  if (!format) throw new BadRequestError(`Cannot tell the format of ${object.name}: give the pipeline a format`);
  return format === "json" ? jsonRows(body, options.jsonPath) : readRows(body, format, options.manager.input);
}

function errorsOf(error: unknown, row: number): FieldError[] {
  if (error instanceof ValidationError) {
    return error.errors.map((item) => ({ ...item, loc: ["rows", row, ...item.loc.slice(item.loc[0] === "rows" ? 2 : item.loc[0] === "body" ? 1 : 0)] }));
  }
  const type = error instanceof ChapkitError ? error.type.replace(/^urn:chapkit:error:/, "").replace(/-/g, "_") : "value_error";
  return [{ loc: ["rows", row], msg: error instanceof Error ? error.message : String(error), type }];
}

interface Pending {
  row: number;
  object: string;
  value: Record<string, unknown>;
}

/** Valid rows between the two phases of a load, as NDJSON in a temporary file, so memory stays flat. */
class Spool {
  readonly #dir: string;
  readonly #path: string;
  #handle: FileHandle | undefined;
  #buffer: string[] = [];
  #size = 0;
  count = 0;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), "chapkit-etl-"));
    this.#path = join(this.#dir, "rows.ndjson");
  }

  async write(item: Pending): Promise<void> {
    const line = JSON.stringify(item) + "\n";
    this.#buffer.push(line);
    this.#size += line.length;
    this.count += 1;
    if (this.#size >= 256 * 1024) await this.#flush();
  }

  async *read(): AsyncGenerator<Pending> {
    await this.#flush();
    await this.#handle?.close();
    this.#handle = undefined;
    if (this.count === 0) return;
    for await (const item of readRows(fileStream(this.#path), "ndjson")) {
      if ("value" in item) yield item.value as unknown as Pending;
    }
  }

  async remove(): Promise<void> {
    await this.#handle?.close().catch(() => {});
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    this.#handle ??= await open(this.#path, "a");
    const text = this.#buffer.join("");
    this.#buffer = [];
    this.#size = 0;
    await this.#handle.write(text);
  }
}

/**
 * Loads the objects into the collection in two phases. First every row is
 * read, transformed and validated with no transaction open (a slow source
 * or transform holds no lock), the valid ones spooled to a temporary file.
 * Then, unless `fail-all` met a refused row, the spooled rows are written in
 * one transaction: batches of inserts, or (upsert) updates of the rows whose
 * key exists and inserts of the rest. With `fail-all` a row the store
 * refuses (a unique key) rolls everything back; with `skip` refused rows are
 * counted and reported (the first 100) and the others load.
 *
 * @throws {SourceError} an object that cannot be read; {@link BadRequestError} a file that is not in its format.
 */
export async function loadObjects(options: LoadOptions): Promise<LoadReport> {
  const { manager, load } = options;
  const failAll = load.on_invalid === "fail-all";
  const report: LoadReport = { counts: { read: 0, dropped: 0, invalid: 0, inserted: 0, updated: 0 }, errors: [], refused: null };
  const refuse = (row: number, object: string, errors: FieldError[]): void => {
    report.counts.invalid += 1;
    if (report.errors.length < MAX_ERRORS) report.errors.push({ row, object, errors });
  };
  const writing = (): boolean => !failAll || report.counts.invalid === 0;
  const insert = async (rows: Pending[]): Promise<void> => {
    if (rows.length === 0) return;
    try {
      await manager.repository.transaction(() => manager.createMany(rows.map((row) => row.value)));
      report.counts.inserted += rows.length;
      return;
    } catch {
      // Some row failed in the store (a unique key, a hook): find which, one at a time.
    }
    for (const row of rows) {
      if (!writing()) return;
      try {
        await manager.repository.transaction(() => manager.create(row.value));
        report.counts.inserted += 1;
      } catch (error) {
        refuse(row.row, row.object, errorsOf(error, row.row));
      }
    }
  };
  const upsert = async (rows: Pending[]): Promise<void> => {
    const key = load.key;
    const values = rows.map((row) => row.value[key]).filter((value) => value !== undefined && value !== null) as FilterValue[];
    const existing = new Map<unknown, string>();
    if (values.length > 0) {
      const found = await manager.repository.findMany({ filter: { kind: "compare", field: key, op: "in", value: values }, limit: values.length });
      for (const record of found) existing.set((record as unknown as Record<string, unknown>)[key], record.id);
    }
    const fresh: Pending[] = [];
    for (const row of rows) {
      const id = existing.get(row.value[key]);
      if (id === undefined) {
        fresh.push(row);
        continue;
      }
      if (!writing()) return;
      try {
        await manager.repository.transaction(() => manager.update(id, row.value));
        report.counts.updated += 1;
      } catch (error) {
        refuse(row.row, row.object, errorsOf(error, row.row));
      }
    }
    if (writing()) await insert(fresh);
  };
  const spool = new Spool();
  try {
    for (const object of options.objects) {
      const body = await object.open();
      let row = 0;
      for await (const item of rowsOf(object, body, options)) {
        options.signal.throwIfAborted();
        row += 1;
        report.counts.read += 1;
        if ("error" in item) {
          refuse(row, object.name, [{ ...item.error, loc: ["rows", row, ...item.error.loc] }]);
          continue;
        }
        let value: Record<string, unknown> | null | undefined = item.value;
        if (options.transform) {
          try {
            value = await options.transform.fn(item.value, { pipeline: options.pipeline, row, object: object.name, signal: options.signal });
          } catch (error) {
            const msg = `Transform ${options.transform.name} failed: ${error instanceof Error ? error.message : String(error)}`;
            refuse(row, object.name, [{ loc: ["rows", row], msg, type: "transform_error" }]);
            continue;
          }
          if (value === null || value === undefined) {
            report.counts.dropped += 1;
            continue;
          }
        }
        try {
          // The parsed row (coerced, defaults filled) is what is written and what an upsert matches on.
          value = manager.parse(value, ["rows", row]) as Record<string, unknown>;
        } catch (error) {
          refuse(row, object.name, errorsOf(error, row));
          continue;
        }
        if (writing()) await spool.write({ row, object: object.name, value });
      }
    }
    if (writing()) await manager.repository.transaction(() => write(spool));
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
  } finally {
    await spool.remove();
  }
  if (failAll && report.counts.invalid > 0) {
    report.counts.inserted = 0;
    report.counts.updated = 0;
    report.refused = `${report.counts.invalid} of ${report.counts.read} rows are invalid; nothing was loaded (on_invalid=fail-all)`;
  }
  return report;

  async function write(rows: Spool): Promise<void> {
    let batch: Pending[] = [];
    let keys = new Set<unknown>();
    const flush = async (): Promise<void> => {
      const pending = batch;
      batch = [];
      keys = new Set();
      if (pending.length === 0 || !writing()) return;
      if (load.mode === "upsert") await upsert(pending);
      else await insert(pending);
    };
    for await (const item of rows.read()) {
      options.signal.throwIfAborted();
      // Two rows with one key in a batch: the first is written before the second looks it up.
      if (load.mode === "upsert" && keys.has(item.value[load.key])) await flush();
      keys.add(item.value[load.key]);
      batch.push(item);
      if (batch.length >= BATCH) await flush();
      if (!writing()) break;
    }
    await flush();
    // A row the store refused under fail-all: roll back what was written.
    if (!writing()) throw new Refused();
    await options.commit();
  }
}
