/**
 * Errors raised by ML jobs. Their names mirror the Python exceptions Python
 * Chapkit raises in the same situations, so a failed job's `error` field
 * (`"<name>: <message>"`) reads the same for existing clients, e.g.
 * `"KeyError: 'script_dir'"` or `"RuntimeError: Training script failed with exit code 1: ..."`.
 *
 * @module
 */

/** A missing key, e.g. an unknown `{placeholder}` in a shell command. The message is the quoted key. */
export class KeyError extends Error {
  /** The key that was not found. */
  readonly key: string;
  /** Creates the error; the message is the key quoted like Python's repr. */
  constructor(key: string) {
    super(pyStrRepr(key));
    this.name = "KeyError";
    this.key = key;
  }
}

/** A positional index out of range, e.g. a bare `{}` in a shell command. */
export class IndexError extends Error {
  /** Creates the error with what was out of range. */
  constructor(message: string) {
    super(message);
    this.name = "IndexError";
  }
}

/** A value that is well-typed but wrong (bad data, missing config, malformed template). */
export class ValueError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ValueError";
  }
}

/** An external step failed (a script exited non-zero or did not write its output). */
export class RuntimeError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuntimeError";
  }
}

/** ONNX inference failed, timed out, or its worker crashed. */
export class OnnxInferenceError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OnnxInferenceError";
  }
}

// Python's repr() of a str: single quotes unless the text holds a single quote and no double quote.
function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r").replaceAll("\t", "\\t");
  return quote + (quote === "'" ? body.replaceAll("'", "\\'") : body) + quote;
}
