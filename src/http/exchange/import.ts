import type { TObject, TSchema } from "@sinclair/typebox";
import { CsvSyntaxError, csvRecords } from "../../core/csv.ts";
import type { EntityRecord } from "../../core/entity.ts";
import { BadRequestError, ChapkitError, type FieldError, ValidationError } from "../../core/errors.ts";
import type { Manager } from "../../core/manager.ts";
import { xlsxRows } from "./_xlsx.ts";
import type { ExchangeFormat } from "./export.ts";

/** What to do with rows that fail validation. */
export type ImportMode = "all" | "skip-invalid";

/** Options of {@link importRows}. */
export interface ImportOptions {
  /** The file format. */
  format: ExchangeFormat;
  /** `all`: any invalid row writes nothing (422); `skip-invalid`: valid rows are written, invalid ones reported. */
  mode: ImportMode;
  /** Validate and report only; nothing is written. */
  dryRun: boolean;
}

/** One row that was refused, with why. */
export interface ImportRowError {
  /** 1-based row of data (the header does not count; an NDJSON line is a row). */
  row: number;
  /** The row's validation errors, `loc` starting with `rows` and the row number. */
  errors: FieldError[];
}

/** What an import did, or (dry run) would do. */
export interface ImportReport {
  /** The file format read. */
  format: ExchangeFormat;
  /** The mode applied. */
  mode: ImportMode;
  /** True when nothing was written. */
  dry_run: boolean;
  /** Rows read. */
  total: number;
  /** Rows that passed validation. */
  valid: number;
  /** Rows refused. */
  invalid: number;
  /** Rows written. */
  created: number;
  /** The refused rows (the first 1000). */
  errors: ImportRowError[];
}

const BATCH = 500;
const MAX_ERRORS = 1000;

async function* decodedText(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      try {
        yield decoder.decode(value, { stream: true });
      } catch (cause) {
        throw new BadRequestError("The file is not UTF-8 text", { cause });
      }
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    reader.releaseLock();
  }
}

async function* lines(text: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of text) {
    buffer += chunk;
    let end = buffer.indexOf("\n");
    while (end >= 0) {
      yield buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf("\n");
    }
  }
  if (buffer.trim()) yield buffer;
}

/** A row as read from a file: an object, or what made it unreadable (`loc` relative to the row). */
export type SourceRow = { value: Record<string, unknown> } | { error: FieldError };

function structured(schema: TSchema | undefined): boolean {
  if (!schema) return true;
  const type = (schema as { type?: unknown }).type;
  return type === undefined || type === "object" || type === "array";
}

/** A cell of CSV or XLSX as a value of its field: JSON for object, array and untyped fields, else as read (coerced by validation). */
function cellValue(cell: unknown, schema: TSchema | undefined): unknown {
  if (typeof cell !== "string" || !structured(schema)) return cell;
  const text = cell.trim();
  if (!/^[[{"]|^(true|false|null|-?\d)/.test(text)) return cell;
  try {
    return JSON.parse(text);
  } catch {
    return cell;
  }
}

function header(cells: readonly unknown[]): string[] {
  const names = cells.map((cell) => (cell === undefined || cell === null ? "" : String(cell).trim()));
  const seen = new Set<string>();
  for (const [index, name] of names.entries()) {
    if (!name) throw new BadRequestError(`The header row has an empty column name (column ${index + 1})`);
    if (seen.has(name)) throw new BadRequestError(`The header row names column "${name}" twice`);
    seen.add(name);
  }
  if (names.length === 0) throw new BadRequestError("The file has no header row");
  return names;
}

async function* tableRows(records: AsyncIterable<readonly unknown[]>, input: TObject): AsyncGenerator<SourceRow> {
  let columns: string[] | undefined;
  for await (const cells of records) {
    if (!columns) {
      columns = header(cells);
      continue;
    }
    const value: Record<string, unknown> = {};
    columns.forEach((column, index) => {
      const cell = cells[index];
      if (cell === undefined || cell === "") return;
      value[column] = cellValue(cell, input.properties[column]);
    });
    yield { value };
  }
  if (!columns) throw new BadRequestError("The file is empty: give a header row, then one row per item");
}

async function* csvSource(body: ReadableStream<Uint8Array>, input: TObject): AsyncGenerator<SourceRow> {
  try {
    yield* tableRows(csvRecords(decodedText(body)), input);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new BadRequestError(`The file is not valid CSV: ${error.message}`);
    throw error;
  }
}

async function* ndjsonSource(body: ReadableStream<Uint8Array>): AsyncGenerator<SourceRow> {
  for await (const line of lines(decodedText(body))) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      yield { error: { loc: [], msg: `Invalid JSON: ${(error as Error).message}`, type: "json_invalid" } };
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      yield { error: { loc: [], msg: "Input should be a valid dictionary or object", type: "dict_type" } };
    } else {
      yield { value: value as Record<string, unknown> };
    }
  }
}

async function* xlsxSource(body: ReadableStream<Uint8Array>, input: TObject): AsyncGenerator<SourceRow> {
  const rows = xlsxRows(body);
  const guarded = (async function* () {
    try {
      yield* rows;
    } catch (error) {
      if (error instanceof ChapkitError) throw error;
      throw new BadRequestError("The file is not a readable XLSX workbook", { cause: error });
    }
  })();
  yield* tableRows(guarded, input);
}

/**
 * The rows of a file as they stream in, in the shapes {@link importRows}
 * reads: CSV or XLSX with a header row (cells of `input`'s object, array and
 * untyped fields parsed as JSON), or NDJSON (a line that is not a JSON
 * object is an error row). For readers that load rows their own way (ETL).
 *
 * @throws {BadRequestError} a file that cannot be read (not UTF-8, broken
 * CSV quoting, no header, not an XLSX workbook), while iterating.
 */
export function readRows(body: ReadableStream<Uint8Array>, format: ExchangeFormat, input?: TObject): AsyncGenerator<SourceRow> {
  const schema = input ?? ({ properties: {} } as unknown as TObject);
  return format === "csv" ? csvSource(body, schema) : format === "ndjson" ? ndjsonSource(body) : xlsxSource(body, schema);
}

function rowErrors(error: unknown, row: number): FieldError[] {
  if (error instanceof ValidationError) {
    return error.errors.map((item) => ({ ...item, loc: ["rows", row, ...item.loc.slice(item.loc[0] === "rows" ? 2 : 0)] }));
  }
  const type = error instanceof ChapkitError ? error.type.replace(/^urn:chapkit:error:/, "").replace(/-/g, "_") : "internal";
  return [{ loc: ["rows", row], msg: error instanceof Error ? error.message : String(error), type }];
}

/**
 * Bulk import of a file into a collection through its manager, read as a
 * stream (one batch of rows in memory): CSV or XLSX with a header row
 * naming the fields (cells of object fields hold JSON), or NDJSON. Each row
 * is validated like a create body. `mode: "all"` writes nothing when any row
 * fails (422 listing them), `skip-invalid` writes the valid ones and reports
 * the others; `dryRun` only reports. Writes run in one transaction.
 *
 * @throws {BadRequestError} a file that cannot be read (not UTF-8, broken
 * CSV quoting, no header, not an XLSX workbook); {@link ValidationError}
 * invalid rows in `all` mode.
 */
export async function importRows<R extends EntityRecord, I extends TObject, O extends TObject>(
  manager: Manager<R, I, O>,
  body: ReadableStream<Uint8Array>,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = {
    format: options.format,
    mode: options.mode,
    dry_run: options.dryRun,
    total: 0,
    valid: 0,
    invalid: 0,
    created: 0,
    errors: [],
  };
  const source = readRows(body, options.format, manager.input);
  const refuse = (row: number, errors: FieldError[]) => {
    report.invalid += 1;
    if (report.errors.length < MAX_ERRORS) report.errors.push({ row, errors });
  };
  const run = async (): Promise<void> => {
    let batch: { row: number; value: Record<string, unknown> }[] = [];
    const writing = () => !options.dryRun && (options.mode === "skip-invalid" || report.invalid === 0);
    const flush = async () => {
      const rows = batch;
      batch = [];
      if (rows.length === 0 || !writing()) return;
      try {
        await manager.repository.transaction(() => manager.createMany(rows.map((row) => row.value)));
        report.created += rows.length;
        return;
      } catch {
        // Some row failed in the store (e.g. a unique key): find which, one at a time.
      }
      for (const row of rows) {
        try {
          await manager.repository.transaction(() => manager.create(row.value));
          report.created += 1;
        } catch (error) {
          report.valid -= 1;
          refuse(row.row, rowErrors(error, row.row));
          if (!writing()) return;
        }
      }
    };
    for await (const item of source) {
      report.total += 1;
      const row = report.total;
      if ("error" in item) {
        refuse(row, [{ ...item.error, loc: ["rows", row, ...item.error.loc] }]);
        continue;
      }
      try {
        manager.parse(item.value, ["rows", row]);
      } catch (error) {
        refuse(row, rowErrors(error, row));
        continue;
      }
      report.valid += 1;
      batch.push({ row, value: item.value });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    if (options.mode === "all" && report.invalid > 0 && !options.dryRun) {
      const { errors, ...counts } = report;
      throw new ValidationError(
        errors.flatMap((error) => error.errors),
        `${report.invalid} of ${report.total} rows are invalid; nothing was imported (mode=all). Fix them, or import with mode=skip-invalid`,
        { extensions: { report: { ...counts, created: 0 } } },
      );
    }
  };
  if (options.dryRun) await run();
  else await manager.repository.transaction(run);
  return report;
}
