/**
 * DataFrame: the `{columns, data}` table that `$train` and `$predict` carry,
 * with the few helpers a model author needs.
 *
 * @module
 */
import { type FieldError, ValidationError } from "../../../core/errors.ts";
import { type Cell, type Column, columnFromText, type Dtype, formatCell, inferDtype, jsonCell } from "./_columns.ts";
import { csvLine, parseCsv } from "./_csv.ts";
import { KeyError, ValueError } from "./errors.ts";

export type { Cell, Dtype };

/** DataFrame-JSON, the wire shape: column names and row-major rows. */
export interface DataFrameJSON {
  /** Column names. */
  columns: string[];
  /** Rows, each as long as `columns`. */
  data: Cell[][];
}

/** Options of {@link DataFrame.fromJSON}. */
export interface FromJSONOptions {
  /** Prefix of every `loc` in validation errors (default `["body"]`). */
  loc?: (string | number)[];
}

/** Values accepted for a new column. Typed arrays become float columns. */
export type ColumnValues = readonly Cell[] | Float64Array | Float32Array;

/**
 * An immutable table of named columns. Column dtypes follow pandas'
 * inference (`int`, `float`, `bool`, `object`), which decides how values are
 * written to CSV (`12.0` in a float column) and read back.
 *
 * JSON has no `10` vs `10.0` distinction in JavaScript, so an all-numeric
 * frame with a float column (which pandas renders as all floats) serialises
 * the same numbers; only NaN (→ `null`) is visibly coerced. For the same
 * reason a JSON column of `[10.0, 11.0]` is an `int` column here and is
 * written to CSV as `10`; make it a float column (written `10.0`) with
 * `df.withColumn(name, df.column(name))`.
 *
 * @example
 * ```ts
 * import { DataFrame } from "./dataframe.ts";
 * const df = DataFrame.fromJSON({ columns: ["rainfall", "cases"], data: [[100.5, 12], [85.2, null]] });
 * df.column("cases"); // Float64Array [12, NaN]
 * df.withColumn("sample_0", new Float64Array([1, 2])).toJSON();
 * ```
 */
export class DataFrame {
  #names: readonly string[];
  #columns: readonly Column[];
  #rows: number;

  /**
   * Builds a frame from column names and row-major rows.
   *
   * @throws {ValueError} when a row's length differs from the number of columns.
   */
  constructor(columns: readonly string[], rows: readonly (readonly Cell[])[] = []) {
    rows.forEach((row, i) => {
      if (row.length !== columns.length) {
        throw new ValueError(`${columns.length} columns passed, passed data had ${row.length} columns (row ${i})`);
      }
    });
    this.#names = [...columns];
    this.#columns = columns.map((_, c) => {
      const values = rows.map((row) => row[c] ?? null);
      return { values, dtype: inferDtype(values) };
    });
    this.#rows = rows.length;
  }

  static #make(names: readonly string[], columns: readonly Column[], rows: number): DataFrame {
    const frame = new DataFrame([]);
    frame.#names = names;
    frame.#columns = columns;
    frame.#rows = rows;
    return frame;
  }

  /**
   * Validates wire JSON and builds a frame: `columns` must be an array of
   * strings, `data` an array of arrays each as long as `columns`.
   *
   * @throws {ValidationError} listing every violation with its `loc`.
   */
  static fromJSON(wire: unknown, options: FromJSONOptions = {}): DataFrame {
    const loc = options.loc ?? ["body"];
    const errors: FieldError[] = [];
    if (typeof wire !== "object" || wire === null || Array.isArray(wire)) {
      throw new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
    }
    const { columns, data } = wire as { columns?: unknown; data?: unknown };
    if (columns === undefined) errors.push({ loc: [...loc, "columns"], msg: "Field required", type: "missing" });
    else if (!Array.isArray(columns)) {
      errors.push({ loc: [...loc, "columns"], msg: "Input should be a valid list", type: "list_type" });
    } else {
      columns.forEach((name, i) => {
        if (typeof name !== "string") {
          errors.push({ loc: [...loc, "columns", i], msg: "Input should be a valid string", type: "string_type" });
        }
      });
    }
    if (data === undefined) errors.push({ loc: [...loc, "data"], msg: "Field required", type: "missing" });
    else if (!Array.isArray(data)) {
      errors.push({ loc: [...loc, "data"], msg: "Input should be a valid list", type: "list_type" });
    } else {
      data.forEach((row, i) => {
        if (!Array.isArray(row)) {
          errors.push({ loc: [...loc, "data", i], msg: "Input should be a valid list", type: "list_type" });
        } else if (Array.isArray(columns) && row.length !== columns.length) {
          errors.push({
            loc: [...loc, "data", i],
            msg: `Row has ${row.length} values but there are ${columns.length} columns`,
            type: "value_error",
          });
        }
      });
    }
    if (errors.length > 0) throw new ValidationError(errors);
    return new DataFrame(columns as string[], data as Cell[][]);
  }

  /** Builds a frame from records; columns are `columns` or the keys in first-seen order. */
  static fromRecords(records: readonly Record<string, Cell>[], columns?: readonly string[]): DataFrame {
    const names = columns ?? [...new Set(records.flatMap((r) => Object.keys(r)))];
    return new DataFrame(names, records.map((r) => names.map((n) => r[n] ?? null)));
  }

  /** Builds a frame from named columns of equal length. */
  static fromColumns(columns: Readonly<Record<string, ColumnValues>>): DataFrame {
    let frame = new DataFrame([]);
    for (const [name, values] of Object.entries(columns)) frame = frame.withColumn(name, values);
    return frame;
  }

  /**
   * Reads CSV text with pandas `read_csv` defaults: a header row, and per
   * column ints, floats (an empty field among ints makes floats with NaN),
   * `True`/`False` booleans, else strings; empty fields and `NA`-like
   * markers become null.
   */
  static fromCSV(text: string): DataFrame {
    const [header = [], ...records] = parseCsv(text);
    return DataFrame.fromTextRows(header.map((f) => f.text), records.map((r) => r.map((f) => f.text)));
  }

  /**
   * Builds a frame from CSV fields already split (a header and records of
   * text), with the dtype inference of {@link DataFrame.fromCSV}; a record
   * shorter than the header reads as empty fields.
   */
  static fromTextRows(header: readonly string[], records: readonly (readonly string[])[]): DataFrame {
    const names = dedupe(header);
    const columns = names.map((_, c) => columnFromText(records.map((r) => r[c] ?? "")));
    return DataFrame.#make(names, columns, records.length);
  }

  /** Column names, in order. */
  get columns(): readonly string[] {
    return this.#names;
  }

  /** Number of rows (0 for an empty frame; every column has this length). */
  get rowCount(): number {
    return this.#rows;
  }

  /** Column dtypes by name (pandas-like: `int`, `float`, `bool`, `object`). */
  get dtypes(): Readonly<Record<string, Dtype>> {
    return Object.fromEntries(this.#names.map((n, i) => [n, this.#columns[i]!.dtype]));
  }

  /** Whether a column of that name exists. */
  has(name: string): boolean {
    return this.#names.includes(name);
  }

  #at(name: string): Column {
    const index = this.#names.indexOf(name);
    if (index < 0) throw new KeyError(name);
    return this.#columns[index]!;
  }

  /**
   * A column as numbers: null → NaN, booleans → 1/0, numeric strings parsed.
   *
   * @throws {KeyError} for an unknown column; {ValueError} for a non-numeric value.
   */
  column(name: string): Float64Array {
    const { values } = this.#at(name);
    if (values instanceof Float64Array) return values.slice();
    const out = new Float64Array(values.length);
    values.forEach((value, i) => {
      if (value === null) out[i] = NaN;
      else if (typeof value === "number") out[i] = value;
      else if (typeof value === "boolean") out[i] = value ? 1 : 0;
      else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) out[i] = Number(value);
      else throw new ValueError(`could not convert ${JSON.stringify(value)} in column '${name}' (row ${i}) to float`);
    });
    return out;
  }

  /** A column's values as cells (NaN in float columns stays NaN). */
  values(name: string): Cell[] {
    return Array.from(this.#at(name).values as ArrayLike<Cell>);
  }

  /** A column's dtype. */
  dtype(name: string): Dtype {
    return this.#at(name).dtype;
  }

  /**
   * A frame with only `names`, in that order.
   *
   * @throws {KeyError} naming the missing columns, like pandas (`"['humidity'] not in index"`).
   */
  select(names: readonly string[]): DataFrame {
    const missing = names.filter((n) => !this.#names.includes(n));
    if (missing.length > 0) throw new KeyError(`[${missing.map((m) => `'${m}'`).join(", ")}] not in index`);
    return DataFrame.#make([...names], names.map((n) => this.#at(n)), this.#rows);
  }

  /**
   * A new frame with the column added at the end (or replaced in place when
   * the name exists). Typed arrays become float columns.
   *
   * @throws {ValueError} when the length differs from the row count.
   */
  withColumn(name: string, values: ColumnValues): DataFrame {
    const rows = this.#names.length === 0 ? values.length : this.#rows;
    if (values.length !== rows) {
      throw new ValueError(`Length of values (${values.length}) does not match length of index (${rows})`);
    }
    const column: Column = values instanceof Float64Array || values instanceof Float32Array
      ? { values: Float64Array.from(values), dtype: "float" }
      : { values: [...values], dtype: inferDtype(values) };
    const index = this.#names.indexOf(name);
    const names = index < 0 ? [...this.#names, name] : [...this.#names];
    const columns = [...this.#columns];
    if (index < 0) columns.push(column);
    else columns[index] = column;
    return DataFrame.#make(names, columns, rows);
  }

  /** Rows as arrays, in column order (NaN stays NaN). */
  rows(): Cell[][] {
    const out: Cell[][] = [];
    for (let r = 0; r < this.#rows; r++) out.push(this.#columns.map((c) => c.values[r] ?? null));
    return out;
  }

  /** Rows as objects keyed by column name. */
  records(): Record<string, Cell>[] {
    return this.rows().map((row) => Object.fromEntries(this.#names.map((n, i) => [n, row[i] ?? null])));
  }

  /** DataFrame-JSON (`{columns, data}`), NaN and ±Infinity as null. */
  toJSON(): DataFrameJSON {
    return { columns: [...this.#names], data: this.rows().map((row) => row.map(jsonCell)) };
  }

  /**
   * CSV as pandas `to_csv(index=False)` writes it: header, `\n` line ends,
   * empty field for null/NaN, float columns with `.0` on integral values,
   * `True`/`False`, minimal quoting with doubled quotes; `header: false`
   * leaves the header out (a chunk appended to a file already started).
   */
  toCSV(options: { header?: boolean } = {}): string {
    const lines = options.header === false ? [] : [csvLine(this.#names)];
    for (let r = 0; r < this.#rows; r++) {
      lines.push(csvLine(this.#columns.map((c) => formatCell(c.values[r], c.dtype))));
    }
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
  }
}

// pandas renames repeated header names `a, a` to `a, a.1`.
function dedupe(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}.${count}`;
  });
}
