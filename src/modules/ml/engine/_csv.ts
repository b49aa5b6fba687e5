// CSV text <-> string fields, following Python's csv module with pandas'
// to_csv / read_csv defaults: comma, `"` quoting, minimal quoting, `\n` lines.

import { csvLine, quoteField } from "../../../core/csv.ts";

export { csvLine, quoteField };

/** A parsed field: its text and whether it was quoted. */
export interface CsvField {
  text: string;
  quoted: boolean;
}

/**
 * Splits CSV text into records of fields. Accepts `\n`, `\r\n` and `\r`
 * line ends and quoted fields spanning lines; blank lines are skipped.
 */
export function parseCsv(text: string): CsvField[][] {
  const records: CsvField[][] = [];
  let record: CsvField[] = [];
  let field = "";
  let quoted = false;
  let inQuotes = false;
  let fieldStarted = false;
  const endField = (): void => {
    record.push({ text: field, quoted });
    field = "";
    quoted = false;
    fieldStarted = false;
  };
  const endRecord = (): void => {
    const blank = record.length === 0 && !fieldStarted && field === "";
    if (!blank) {
      endField();
      records.push(record);
    }
    record = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "" && !quoted) {
      inQuotes = true;
      quoted = true;
      fieldStarted = true;
    } else if (c === ",") {
      endField();
      fieldStarted = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  endRecord();
  return records;
}

const SPECIAL = /[,\r\n"]/g;

/**
 * Splits CSV text pushed piece by piece into records of fields, by the
 * quoting rules of {@link parseCsv} (what `DataFrame.fromCSV` reads with);
 * a quote, an escaped quote or a `\r\n` may fall across two pieces. Blank
 * lines are skipped.
 */
export class CsvRecordSplitter {
  #record: string[] = [];
  #field = "";
  #inQuotes = false;
  #quoted = false;
  #started = false;
  #quoteSeen = false;
  #skipLf = false;

  /** Appends the records completed by `text` to `out`. */
  push(text: string, out: string[][]): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.#skipLf) {
        this.#skipLf = false;
        if (c === "\n") continue;
      }
      if (this.#quoteSeen) {
        this.#quoteSeen = false;
        if (c === '"') {
          this.#field += '"';
          continue;
        }
        this.#inQuotes = false;
      }
      if (this.#inQuotes) {
        if (c === '"') this.#quoteSeen = true;
        else {
          // Take the run of plain characters at once.
          const end = text.indexOf('"', i);
          const stop = end < 0 ? text.length : end;
          this.#field += text.slice(i, stop);
          i = stop - 1;
        }
        continue;
      }
      if (c === '"' && this.#field === "" && !this.#quoted) {
        this.#inQuotes = true;
        this.#quoted = true;
        this.#started = true;
      } else if (c === ",") {
        this.#endField();
        this.#started = true;
      } else if (c === "\n" || c === "\r") {
        if (c === "\r") this.#skipLf = true;
        this.#endRecord(out);
      } else {
        // Take the run of plain characters up to the next delimiter at once (a slice, not a string per character).
        SPECIAL.lastIndex = i + 1;
        const found = SPECIAL.exec(text);
        const stop = found ? found.index : text.length;
        this.#field = this.#field === "" ? text.slice(i, stop) : this.#field + text.slice(i, stop);
        this.#started = true;
        i = stop - 1;
      }
    }
  }

  /** Appends the last record, when the text did not end with a line break. */
  end(out: string[][]): void {
    this.#quoteSeen = false;
    this.#inQuotes = false;
    this.#endRecord(out);
  }

  #endField(): void {
    this.#record.push(this.#field);
    this.#field = "";
    this.#quoted = false;
    this.#started = false;
  }

  #endRecord(out: string[][]): void {
    const blank = this.#record.length === 0 && !this.#started && this.#field === "";
    if (!blank) {
      this.#endField();
      out.push(this.#record);
    }
    this.#record = [];
  }
}

/**
 * Counts the fields of each CSV record in text pushed piece by piece, by
 * the rules of {@link CsvRecordSplitter} but without building the fields:
 * how an upload is checked as it streams by.
 */
export class CsvFieldCounter {
  #fields = 0;
  #started = false;
  #atFieldStart = true;
  #quoted = false;
  #inQuotes = false;
  #quoteSeen = false;
  #skipLf = false;

  /** Calls `onRecord` with the field count of each record `text` completes. */
  push(text: string, onRecord: (fields: number) => void): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.#skipLf) {
        this.#skipLf = false;
        if (c === "\n") continue;
      }
      if (this.#quoteSeen) {
        this.#quoteSeen = false;
        if (c === '"') continue;
        this.#inQuotes = false;
      }
      if (this.#inQuotes) {
        if (c === '"') this.#quoteSeen = true;
        else {
          const end = text.indexOf('"', i);
          i = (end < 0 ? text.length : end) - 1;
        }
        continue;
      }
      if (c === '"' && this.#atFieldStart && !this.#quoted) {
        this.#inQuotes = true;
        this.#quoted = true;
        this.#started = true;
        this.#atFieldStart = false;
      } else if (c === ",") {
        this.#fields += 1;
        this.#started = true;
        this.#atFieldStart = true;
        this.#quoted = false;
      } else if (c === "\n" || c === "\r") {
        if (c === "\r") this.#skipLf = true;
        this.#endRecord(onRecord);
      } else {
        this.#started = true;
        this.#atFieldStart = false;
        SPECIAL.lastIndex = i + 1;
        const found = SPECIAL.exec(text);
        i = (found ? found.index : text.length) - 1;
      }
    }
  }

  /** Counts the last record, when the text did not end with a line break. */
  end(onRecord: (fields: number) => void): void {
    this.#quoteSeen = false;
    this.#inQuotes = false;
    this.#endRecord(onRecord);
  }

  #endRecord(onRecord: (fields: number) => void): void {
    if (this.#fields > 0 || this.#started) onRecord(this.#fields + 1);
    this.#fields = 0;
    this.#started = false;
    this.#atFieldStart = true;
    this.#quoted = false;
  }
}
