/**
 * Tables read and written as streams of rows (CSV with a header, or NDJSON
 * objects), a chunk at a time, so a file of any length passes through a
 * fixed amount of memory: what batch prediction reads its input with and
 * writes its result with.
 *
 * @module
 */
import type { FieldError } from "../../../core/errors.ts";
import { type Cell, DataFrame } from "./dataframe.ts";
import { csvLine, CsvFieldCounter, CsvRecordSplitter } from "./_csv.ts";
import { ValueError } from "./errors.ts";

/** A row format: CSV with a header row, or newline-delimited JSON objects. */
export type RowFormat = "csv" | "ndjson";

/** The media type written for a row format. */
export const ROW_MEDIA_TYPES: Readonly<Record<RowFormat, string>> = {
  csv: "text/csv",
  ndjson: "application/x-ndjson",
};

/** The row format of a media type (`text/csv`, `application/x-ndjson`, `application/jsonl`…), or null. */
export function rowFormatOf(contentType: string | null | undefined): RowFormat | null {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/csv" || type === "application/csv") return "csv";
  if (["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"].includes(type)) {
    return "ndjson";
  }
  return null;
}

/** Splits NDJSON text pushed piece by piece into parsed lines; blank lines are skipped. */
class NdjsonSplitter {
  #rest = "";
  #line = 0;

  push(text: string, out: { line: number; value: unknown; error?: string }[]): void {
    const parts = (this.#rest + text).split("\n");
    this.#rest = parts.pop()!;
    for (const part of parts) this.#parse(part, out);
  }

  end(out: { line: number; value: unknown; error?: string }[]): void {
    if (this.#rest !== "") this.#parse(this.#rest, out);
    this.#rest = "";
  }

  #parse(text: string, out: { line: number; value: unknown; error?: string }[]): void {
    const line = this.#line++;
    if (text.trim() === "") return;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        out.push({ line, value: null, error: "Each line must be a JSON object (one row keyed by column name)" });
      } else out.push({ line, value });
    } catch (error) {
      out.push({ line, value: null, error: `Invalid JSON: ${(error as Error).message}` });
    }
  }
}

/** Options of {@link RowChecker}. */
export interface RowCheckerOptions {
  /** Problems collected before the check gives up (default 20). */
  maxErrors?: number;
  /** `loc` prefix of the problems (default `["body"]`). */
  loc?: (string | number)[];
}

/**
 * Checks a table's bytes as they pass (an upload on its way to storage):
 * CSV records as long as the header, NDJSON lines that are JSON objects.
 * Counts rows; keeps at most `maxErrors` problems, each located at its row
 * (`[...loc, "rows", i]`, data rows from 0) or line.
 */
export class RowChecker {
  /** Data rows seen (the CSV header not counted). */
  rows = 0;
  /** Columns of the CSV header, once read. */
  columns: number | null = null;
  /** What is wrong, at most `maxErrors`. */
  readonly errors: FieldError[] = [];
  readonly #format: RowFormat;
  readonly #decoder = new TextDecoder();
  readonly #csv = new CsvFieldCounter();
  readonly #ndjson = new NdjsonSplitter();
  readonly #max: number;
  readonly #loc: (string | number)[];

  /** Creates a checker of one table. */
  constructor(format: RowFormat, options: RowCheckerOptions = {}) {
    this.#format = format;
    this.#max = options.maxErrors ?? 20;
    this.#loc = options.loc ?? ["body"];
  }

  /** Whether the checker has collected as many problems as it keeps. */
  get full(): boolean {
    return this.errors.length >= this.#max;
  }

  /** Checks the next bytes. */
  push(bytes: Uint8Array): void {
    this.#take(this.#decoder.decode(bytes, { stream: true }), false);
  }

  /** Checks what is left and the table as a whole (a header, at least one row). */
  end(): void {
    this.#take(this.#decoder.decode(), true);
    if (this.#format === "csv" && this.columns === null) {
      this.#error([], "The upload is empty: CSV needs a header row and at least one data row", "missing");
    } else if (this.rows === 0 && this.errors.length === 0) {
      this.#error([], "The upload has no data rows", "missing");
    }
  }

  #take(text: string, last: boolean): void {
    if (this.#format === "csv") {
      const onRecord = (fields: number): void => {
        if (this.columns === null) {
          this.columns = fields;
          return;
        }
        if (fields !== this.columns) {
          this.#error(["rows", this.rows], `Row has ${fields} values but the header has ${this.columns} columns`, "value_error");
        }
        this.rows += 1;
      };
      this.#csv.push(text, onRecord);
      if (last) this.#csv.end(onRecord);
      return;
    }
    const lines: { line: number; value: unknown; error?: string }[] = [];
    this.#ndjson.push(text, lines);
    if (last) this.#ndjson.end(lines);
    for (const line of lines) {
      if (line.error) this.#error(["rows", this.rows], `Line ${line.line + 1}: ${line.error}`, "value_error");
      this.rows += 1;
    }
  }

  #error(at: (string | number)[], msg: string, type: string): void {
    if (this.errors.length < this.#max) this.errors.push({ loc: [...this.#loc, ...at], msg, type });
  }
}

/** One chunk of a table read by {@link readFrames}. */
export interface FrameChunk {
  /** The rows of this chunk. */
  frame: DataFrame;
  /** Index of its first row in the whole table. */
  firstRow: number;
  /** Bytes of the input read so far (for progress). */
  bytesRead: number;
}

/** Options of {@link readFrames}. */
export interface ReadFramesOptions {
  /** Rows per chunk (default 10 000). */
  chunkRows?: number;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

/**
 * Reads a CSV or NDJSON stream as frames of at most `chunkRows` rows, each
 * built with `DataFrame.fromCSV`'s (CSV) or `fromRecords`' (NDJSON)
 * inference; only one chunk is held at a time.
 *
 * @throws {ValueError} a CSV record longer or shorter than its header, an
 * NDJSON line that is not a JSON object, or a CSV without a header.
 */
export async function* readFrames(
  stream: ReadableStream<Uint8Array>,
  format: RowFormat,
  options: ReadFramesOptions = {},
): AsyncGenerator<FrameChunk> {
  const chunkRows = options.chunkRows ?? 10_000;
  const decoder = new TextDecoder();
  const csv = new CsvRecordSplitter();
  const ndjson = new NdjsonSplitter();
  let header: string[] | null = null;
  let keys: string[] = [];
  let records: string[][] = [];
  let objects: Record<string, Cell>[] = [];
  let firstRow = 0;
  let bytesRead = 0;
  const take = (text: string, last: boolean): void => {
    if (format === "csv") {
      const out: string[][] = [];
      csv.push(text, out);
      if (last) csv.end(out);
      for (const record of out) {
        if (header === null) header = record;
        else if (record.length !== header.length) {
          throw new ValueError(`Row ${firstRow + records.length} has ${record.length} values but the header has ${header.length} columns`);
        } else records.push(record);
      }
      return;
    }
    const out: { line: number; value: unknown; error?: string }[] = [];
    ndjson.push(text, out);
    if (last) ndjson.end(out);
    for (const line of out) {
      if (line.error) throw new ValueError(`Line ${line.line + 1}: ${line.error}`);
      objects.push(line.value as Record<string, Cell>);
    }
  };
  const pending = (): number => (format === "csv" ? records.length : objects.length);
  const frameOf = (count: number): DataFrame => {
    if (format === "csv") {
      const taken = records.slice(0, count);
      records = records.slice(count);
      return DataFrame.fromTextRows(header!, taken);
    }
    const taken = objects.slice(0, count);
    objects = objects.slice(count);
    for (const object of taken) for (const key in object) if (!keys.includes(key)) keys = [...keys, key];
    return DataFrame.fromRecords(taken, keys);
  };
  const reader = stream.getReader();
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) take(decoder.decode(), true);
      else {
        bytesRead += value.byteLength;
        take(decoder.decode(value, { stream: true }), false);
      }
      while (pending() >= chunkRows || (done && pending() > 0)) {
        const frame = frameOf(Math.min(chunkRows, pending()));
        yield { frame, firstRow, bytesRead };
        firstRow += frame.rowCount;
      }
      if (done) break;
    }
    if (format === "csv" && header === null) throw new ValueError("The CSV input is empty: it needs a header row");
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Writes frames as one table: CSV with the first frame's columns as the
 * header (later frames are written in those columns, a missing one empty),
 * or NDJSON objects. Returns each frame's text.
 */
export class RowWriter {
  #header: readonly string[] | null = null;
  readonly #format: RowFormat;

  /** Creates a writer of one table. */
  constructor(format: RowFormat) {
    this.#format = format;
  }

  /** The text of the next frame (with the header before the first CSV frame). */
  write(frame: DataFrame): string {
    if (this.#format === "ndjson") {
      return frame.records().map((row) => JSON.stringify(row)).join("\n") + (frame.rowCount > 0 ? "\n" : "");
    }
    if (this.#header === null) {
      this.#header = [...frame.columns];
      return frame.toCSV();
    }
    return inColumns(frame, this.#header).toCSV({ header: false });
  }

  /** What ends the table: a CSV header when no frame was written. */
  end(columns: readonly string[] = []): string {
    if (this.#format === "csv" && this.#header === null) return csvLine(columns) + "\n";
    return "";
  }
}

function inColumns(frame: DataFrame, header: readonly string[]): DataFrame {
  if (frame.columns.length === header.length && frame.columns.every((name, i) => name === header[i])) return frame;
  let out = frame;
  for (const name of header) if (!out.has(name)) out = out.withColumn(name, new Array<Cell>(frame.rowCount).fill(null));
  return out.select(header);
}
