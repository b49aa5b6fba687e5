import { csvLine } from "../../core/csv.ts";
import { UnsupportedMediaTypeError } from "../../core/errors.ts";
import { xlsxStream } from "./_xlsx.ts";

/** The file formats a collection exports to and imports from. */
export type ExchangeFormat = "csv" | "ndjson" | "xlsx";

/** Media types of the formats. */
export const EXCHANGE_TYPES: Readonly<Record<ExchangeFormat, string>> = {
  csv: "text/csv",
  ndjson: "application/x-ndjson",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

/**
 * The format a request names: `?format=` (`csv`, `ndjson`, `xlsx`), else the
 * media type given (`Content-Type` of an import, `Accept` of an export), else `fallback`.
 * @throws {UnsupportedMediaTypeError} any other format.
 */
export function exchangeFormat(request: Request, header: "accept" | "content-type", fallback: ExchangeFormat = "csv"): ExchangeFormat {
  const named = new URL(request.url).searchParams.get("format");
  if (named !== null) {
    if (named === "csv" || named === "ndjson" || named === "xlsx") return named;
    throw new UnsupportedMediaTypeError(`Unknown format ${JSON.stringify(named)}: use csv, ndjson or xlsx`);
  }
  const given = request.headers.get(header)?.toLowerCase() ?? "";
  if (given.includes("ndjson")) return "ndjson";
  if (given.includes("spreadsheetml")) return "xlsx";
  if (given.includes("text/csv")) return "csv";
  if (header === "content-type" && given && !given.startsWith("application/octet-stream") && !given.startsWith("text/plain")) {
    throw new UnsupportedMediaTypeError(`Import CSV (text/csv), NDJSON (application/x-ndjson) or XLSX, not ${given}; or name the format with ?format=`);
  }
  return fallback;
}

function valueAt(item: Record<string, unknown>, column: string): unknown {
  if (column in item) return item[column];
  let value: unknown = item;
  for (const part of column.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A cell's text: strings as they are, numbers and booleans printed, objects and arrays as JSON, nothing for null. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

function xlsxCell(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}

/** Options of {@link exportResponse}. */
export interface ExportOptions {
  /** The file format. */
  format: ExchangeFormat;
  /** Columns of CSV and XLSX, in order (a JSON path such as `data.name` reaches inside). */
  columns: readonly string[];
  /** The file's base name in `Content-Disposition` (e.g. `config`). */
  name: string;
}

/** The items as text lines, `head` first, in pieces of about 64 KiB. */
async function* lineChunks(items: AsyncIterator<unknown>, first: IteratorResult<unknown>, line: (item: unknown) => string, head = ""): AsyncGenerator<string> {
  if (head) yield head;
  let next = first;
  let chunk = "";
  while (!next.done) {
    chunk += `${line(next.value)}\n`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = "";
    }
    next = await items.next();
  }
  if (chunk) yield chunk;
}

function textStream(chunks: AsyncGenerator<string>, items: AsyncIterator<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await items.return?.();
    },
  }, { highWaterMark: 1 });
}

/**
 * A collection's items as a downloadable file, streamed as the client reads
 * (nothing is read ahead of the socket, so a million rows take the memory of
 * a few): CSV with a header row, NDJSON, or an XLSX workbook with one sheet.
 * The first item is read before answering, so a store that fails at once
 * answers a problem.
 */
export async function exportResponse(items: AsyncIterable<unknown>, options: ExportOptions): Promise<Response> {
  const headers = {
    "content-type": options.format === "csv" ? "text/csv; charset=utf-8" : EXCHANGE_TYPES[options.format],
    "content-disposition": `attachment; filename="${options.name}.${options.format}"`,
  };
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  const { columns } = options;
  if (options.format === "ndjson") return new Response(textStream(lineChunks(iterator, first, (item) => JSON.stringify(item)), iterator), { headers });
  if (options.format === "csv") {
    const line = (item: unknown) => csvLine(columns.map((column) => cellText(valueAt(item as Record<string, unknown>, column))));
    return new Response(textStream(lineChunks(iterator, first, line, `${csvLine(columns)}\n`), iterator), { headers });
  }
  const rows = (async function* () {
    let next = first;
    try {
      yield [...columns];
      for (; !next.done; next = await iterator.next()) {
        const item = next.value as Record<string, unknown>;
        yield columns.map((column) => xlsxCell(valueAt(item, column)));
      }
    } finally {
      // A client that hangs up mid-file ends the store's cursor too.
      if (!next.done) await iterator.return?.();
    }
  })();
  return new Response(await xlsxStream(options.name.slice(0, 31) || "export", rows), { headers });
}
