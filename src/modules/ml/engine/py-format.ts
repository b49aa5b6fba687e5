/**
 * Python `str.format(**values)` for shell command templates: `{name}` is
 * replaced, `{{` and `}}` are literal braces, an unknown name throws
 * `KeyError: 'name'`, a bare `{}` or `{0}` throws `IndexError` (there are no
 * positional arguments), unbalanced braces throw `ValueError`.
 *
 * @module
 */
import { IndexError, KeyError, ValueError } from "./errors.ts";

/**
 * Formats `template` with named `values` exactly like Python's
 * `template.format(**values)` for string values.
 *
 * @example
 * ```ts
 * import { pyFormat } from "./py-format.ts";
 * pyFormat("python train.py --data {data_file} --opts '{{}}'", { data_file: "/tmp/x/data.csv" });
 * // "python train.py --data /tmp/x/data.csv --opts '{}'"
 * ```
 * @throws {KeyError} for an unknown name; {IndexError} for positional fields; {ValueError} for bad braces.
 */
export function pyFormat(template: string, values: Readonly<Record<string, string>>): string {
  let out = "";
  let i = 0;
  let auto = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === "}") {
      if (template[i + 1] !== "}") throw new ValueError("Single '}' encountered in format string");
      out += "}";
      i += 2;
    } else if (c !== "{") {
      out += c;
      i++;
    } else if (template[i + 1] === "{") {
      out += "{";
      i += 2;
    } else {
      if (i + 1 >= template.length) throw new ValueError("Single '{' encountered in format string");
      const end = closingBrace(template, i + 1);
      const field = template.slice(i + 1, end);
      out += replaceField(field, values, () => auto++);
      i = end + 1;
    }
  }
  return out;
}

function closingBrace(template: string, from: number): number {
  let depth = 1;
  for (let j = from; j < template.length; j++) {
    if (template[j] === "{") depth++;
    else if (template[j] === "}" && --depth === 0) return j;
  }
  throw new ValueError("expected '}' before end of string");
}

function replaceField(field: string, values: Readonly<Record<string, string>>, nextAuto: () => number): string {
  const match = /^([^!:]*)(?:!([^:]*))?(?::(.*))?$/s.exec(field)!;
  const [, expression = "", conversion, spec = ""] = match;
  const name = /^[^.[]*/.exec(expression)![0];
  if (name === "" || /^\d+$/.test(name)) {
    const index = name === "" ? nextAuto() : Number(name);
    throw new IndexError(`Replacement index ${index} out of range for positional args tuple`);
  }
  if (!Object.hasOwn(values, name)) throw new KeyError(name);
  if (expression !== name) throw new ValueError(`Unsupported field expression '{${expression}}' in command`);
  let value = values[name]!;
  if (conversion !== undefined) value = convert(value, conversion);
  return applySpec(value, spec.includes("{") ? pyFormat(spec, values) : spec);
}

function convert(value: string, conversion: string): string {
  if (conversion === "s") return value;
  if (conversion === "r" || conversion === "a") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    return quote + value.replaceAll("\\", "\\\\") + quote;
  }
  if (conversion.length !== 1) throw new ValueError("expected ':' after conversion specifier");
  throw new ValueError(`Unknown conversion specifier ${conversion}`);
}

function applySpec(value: string, spec: string): string {
  if (spec === "") return value;
  const match = /^(?:(.)?([<>^=]))?(\d+)?(?:\.(\d+))?(s)?$/s.exec(spec);
  if (!match) throw new ValueError(`Invalid format specifier '${spec}' for object of type 'str'`);
  const [, fill = " ", align = "<", width, precision] = match;
  if (align === "=") throw new ValueError("'=' alignment not allowed in string format specifier");
  const text = precision === undefined ? value : value.slice(0, Number(precision));
  const pad = Math.max(0, Number(width ?? 0) - text.length);
  if (align === ">") return fill.repeat(pad) + text;
  if (align === "^") return fill.repeat(Math.floor(pad / 2)) + text + fill.repeat(pad - Math.floor(pad / 2));
  return text + fill.repeat(pad);
}
