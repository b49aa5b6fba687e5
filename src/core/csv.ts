// CSV in the shape spreadsheets and pandas write: comma, `"` quoting, minimal quoting.

/** Quotes a field when it holds a comma, a quote, or a line break; doubles inner quotes. */
export function quoteField(field: string): string {
  if (!/[",\r\n]/.test(field)) return field;
  return `"${field.replaceAll('"', '""')}"`;
}

/** One CSV line (without its terminator). A lone empty field is written `""`, as Python does. */
export function csvLine(fields: readonly string[]): string {
  if (fields.length === 1 && fields[0] === "") return '""';
  return fields.map(quoteField).join(",");
}

/** Thrown by {@link csvRecords} for text that is not CSV (an unterminated quote). */
export class CsvSyntaxError extends Error {
  /** The 1-based line the broken record starts on. */
  readonly line: number;
  /** Creates the error for the record starting on `line`. */
  constructor(message: string, line: number) {
    super(message);
    this.name = "CsvSyntaxError";
    this.line = line;
  }
}

/**
 * The records of CSV text that arrives in chunks, one array of fields per
 * record, holding one record at a time. Accepts `\n`, `\r\n` and `\r` line
 * ends and quoted fields spanning lines; blank lines are skipped; a leading
 * byte-order mark is dropped.
 *
 * @throws {CsvSyntaxError} an unterminated quoted field at the end.
 */
export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  let record: string[] = [];
  let field = "";
  let inQuotes = false;
  let quoteClosed = false;
  let started = false;
  let pendingCr = false;
  let line = 1;
  let recordLine = 1;
  let first = true;
  const endRecord = (): string[] | null => {
    const blank = record.length === 0 && !started && field === "";
    const done = blank ? null : [...record, field];
    record = [];
    field = "";
    started = false;
    quoteClosed = false;
    return done;
  };
  for await (let chunk of chunks) {
    if (first && chunk.length > 0) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let plainStart = -1;
    const flushPlain = (end: number) => {
      if (plainStart >= 0) field += chunk.slice(plainStart, end);
      plainStart = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (pendingCr) {
        pendingCr = false;
        if (c === 10) continue;
      }
      if (inQuotes) {
        if (c === 34) {
          flushPlain(i);
          inQuotes = false;
          quoteClosed = true;
        } else {
          if (c === 10) line++;
          if (plainStart < 0) plainStart = i;
        }
        continue;
      }
      if (c === 34) {
        flushPlain(i);
        // `""` inside a quoted field is one quote; a quote at a field's start opens quoting.
        if (quoteClosed) field += '"';
        inQuotes = true;
        quoteClosed = false;
        started = true;
      } else if (c === 44) {
        flushPlain(i);
        record.push(field);
        field = "";
        quoteClosed = false;
        started = true;
      } else if (c === 10 || c === 13) {
        flushPlain(i);
        const done = endRecord();
        if (done) yield done;
        if (c === 13) pendingCr = true;
        line++;
        recordLine = line;
      } else {
        if (plainStart < 0) plainStart = i;
        started = true;
      }
    }
    flushPlain(chunk.length);
  }
  if (inQuotes) throw new CsvSyntaxError(`Unterminated quoted field in the record starting on line ${recordLine}`, recordLine);
  const done = endRecord();
  if (done) yield done;
}
