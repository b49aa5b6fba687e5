// The few pieces of exceljs (an optional peer) that export and import use: its streaming writer and reader.
import { PassThrough, Readable } from "node:stream";
import { importPeer } from "../../core/optional-peer.ts";

interface Row {
  values: unknown;
  commit(): void;
}
/** A stream exceljs pipes into: the PassThrough (of readable-stream 2, without `writableLength`) archiver puts between the sheet and the zip. */
interface Pipe {
  readonly _writableState?: { length: number };
  readonly _readableState?: { length: number };
}
interface Worksheet {
  addRow(values: unknown[]): Row;
  commit(): void;
  /**
   * The sheet's XML on its way into the zip (exceljs' StreamBuf): 64 KiB
   * buffers not yet handed on, and the streams it hands them to without
   * waiting for them (archiver reads the sheet through a PassThrough).
   */
  stream?: { buffers?: unknown[]; pipes?: Pipe[] };
}
interface WorkbookWriter {
  addWorksheet(name: string): Worksheet;
  commit(): Promise<void>;
}
interface WorksheetReader extends AsyncIterable<{ values: unknown }> {}
interface WorkbookReader extends AsyncIterable<WorksheetReader> {}
interface ExcelJs {
  stream: {
    xlsx: {
      WorkbookWriter: new (options: { stream: NodeJS.WritableStream; useStyles?: boolean; useSharedStrings?: boolean }) => WorkbookWriter;
      WorkbookReader: new (input: NodeJS.ReadableStream, options: Record<string, string>) => WorkbookReader;
    };
  };
}

async function excel(): Promise<ExcelJs> {
  const mod = await importPeer("exceljs", "XLSX export and import", () => import("exceljs"));
  return ((mod as { default?: unknown }).default ?? mod) as ExcelJs;
}

// The writer waits while this much is produced but not yet read, so memory stays flat.
const HIGH_WATER = 4 * 1024 * 1024;
const SHEET_BUFFER = 65_536;

/** Bytes of the sheet's XML written but not yet taken by the zip. */
function sheetBacklog(worksheet: Worksheet): number {
  const stream = worksheet.stream;
  let bytes = (stream?.buffers?.length ?? 0) * SHEET_BUFFER;
  for (const pipe of stream?.pipes ?? []) bytes += (pipe._writableState?.length ?? 0) + (pipe._readableState?.length ?? 0);
  return bytes;
}

/**
 * A one-sheet workbook streamed as rows arrive: the header, then each row of
 * cells. Rows are read only as fast as the client reads the file: the
 * sheet's XML not yet zipped and the zip not yet sent stay under a few MiB
 * (exceljs itself writes into the zip without waiting), and the web stream
 * takes a chunk only when its reader asks for one. Cancelling the stream
 * stops reading `rows`.
 */
export async function xlsxStream(sheet: string, rows: AsyncIterable<unknown[]>): Promise<ReadableStream<Uint8Array>> {
  const { stream } = await excel();
  const out = new PassThrough();
  const workbook = new stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
  const worksheet = workbook.addWorksheet(sheet);
  const pending = (): number => out.readableLength + out.writableLength + sheetBacklog(worksheet);
  void (async () => {
    try {
      for await (const row of rows) {
        worksheet.addRow(row).commit();
        while (pending() > HIGH_WATER && !out.destroyed) await new Promise((resolve) => setTimeout(resolve, 2));
        if (out.destroyed) return;
      }
      worksheet.commit();
      await workbook.commit();
    } catch (error) {
      out.destroy(error as Error);
    }
  })();
  const chunks = out[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      out.destroy();
    },
  }, { highWaterMark: 0 });
}

/** The rows of the first sheet of a workbook read from a stream, each an array of cell values (text, numbers, booleans, dates). */
export async function* xlsxRows(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown[]> {
  const { stream } = await excel();
  const input = Readable.fromWeb(body as unknown as import("node:stream/web").ReadableStream<Uint8Array>);
  const reader = new stream.xlsx.WorkbookReader(input, { worksheets: "emit", sharedStrings: "cache", styles: "ignore", hyperlinks: "ignore" });
  for await (const worksheet of reader) {
    for await (const row of worksheet) {
      // exceljs rows are 1-based sparse arrays: cell A is index 1.
      const values = Array.isArray(row.values) ? (row.values as unknown[]).slice(1) : [];
      yield Array.from(values, (value) => plainCell(value));
    }
    return;
  }
}

function plainCell(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const cell = value as { text?: unknown; result?: unknown; richText?: { text: string }[] };
    if (cell.richText) return cell.richText.map((part) => part.text).join("");
    if (cell.result !== undefined) return cell.result;
    if (cell.text !== undefined) return cell.text;
  }
  return value;
}
