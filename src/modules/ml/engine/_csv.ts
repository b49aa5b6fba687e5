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
