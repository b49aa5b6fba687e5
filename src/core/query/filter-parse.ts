import type { TableDefinition } from "../entity.ts";
import type { Filter, FilterOperator, FilterValue } from "./model.ts";
import { checkComparison, invalidQuery, resolveField } from "./field.ts";

/** How {@link parseFilter} reads an expression. */
export interface ParseFilterOptions {
  /** Checks fields, operators and value types against this table (unknown field or mismatch: 400). */
  table?: TableDefinition;
  /** The parameter named in errors (default `filter`). */
  parameter?: string;
  /** Deepest nesting of parentheses and `!` accepted (default 64). */
  maxDepth?: number;
  /**
   * Variables (`$user.role`, `$request.header.x-beta`) the expression may
   * compare, as names (`user.role`) or prefixes ending in `.` (`request.header.`).
   * Unset: no variable is allowed. A variable outside the list is a 400
   * `invalid-query`. In the parsed filter a variable is a field starting with `$`.
   */
  variables?: readonly string[];
}

type TokenKind = "(" | ")" | "&&" | "||" | "!" | "op" | "field" | "value" | "end";

interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based position of the token's first character. */
  at: number;
  value?: FilterValue;
}

const OPERATORS: Record<string, FilterOperator> = {
  "=": "eq",
  "!=": "ne",
  ">": "gt",
  ">=": "gte",
  "<": "lt",
  "<=": "lte",
  "~": "icontains",
  "!~": "icontains",
};
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/y;
const VARIABLE = /\$[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)+/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

function tokenize(source: string, parameter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw invalidQuery(message, { parameter, position: at });
  };
  const sticky = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    return pattern.exec(source)?.[0];
  };
  while (i < source.length) {
    const c = source[i]!;
    const at = i + 1;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i += 1;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === "&&" || two === "||") {
      tokens.push({ kind: two, text: two, at });
      i += 2;
    } else if (two === "!=" || two === "!~" || two === ">=" || two === "<=") {
      tokens.push({ kind: "op", text: two, at });
      i += 2;
    } else if (c === "=" || c === ">" || c === "<" || c === "~") {
      tokens.push({ kind: "op", text: c, at });
      i += 1;
    } else if (c === "!" || c === "(" || c === ")") {
      tokens.push({ kind: c, text: c, at });
      i += 1;
    } else if (c === "$") {
      const text = sticky(VARIABLE) ?? fail("invalid variable (expected $name.path)", at);
      tokens.push({ kind: "field", text, at });
      i += text.length;
    } else if (c === '"') {
      const text = sticky(STRING) ?? fail("unterminated or invalid string", at);
      tokens.push({ kind: "value", text, at, value: JSON.parse(text) as string });
      i += text.length;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const text = sticky(NUMBER) ?? fail(`invalid number`, at);
      const value = Number(text);
      if (!Number.isFinite(value)) fail(`number out of range: ${text}`, at);
      tokens.push({ kind: "value", text, at, value });
      i += text.length;
    } else {
      const text = sticky(WORD) ?? fail(`unexpected character ${JSON.stringify(c)}`, at);
      if (text === "true" || text === "false" || text === "null") {
        tokens.push({ kind: "value", text, at, value: text === "null" ? null : text === "true" });
      } else {
        tokens.push({ kind: "field", text, at });
      }
      i += text.length;
    }
  }
  tokens.push({ kind: "end", text: "end of input", at: source.length + 1 });
  return tokens;
}

/**
 * Parses a filter expression into a {@link Filter}.
 *
 * Grammar: comparisons `field op value` with `= != > >= < <= ~ !~` (`~` is an
 * ASCII case-insensitive "contains"), joined by `&&` and `||` (`&&` binds
 * tighter), negated by `!`, grouped by parentheses. Values are double-quoted
 * strings (JSON escapes), numbers, `true`, `false` and `null` (`= null` and
 * `!= null` test for a missing value). Fields are columns or dotted paths into
 * JSON columns. Variables `$name.path` (only those listed in `variables`)
 * compare a value of the caller's context, e.g. `$user.role = "admin"`, or stand
 * for a value, e.g. `owner_id = $user.id` (a compare node with `variable` set). With `table`, fields, operators and value types are checked.
 * Any error is an `InvalidQueryError` naming the parameter and the 1-based
 * position.
 *
 * @example
 * ```ts
 * import { parseFilter } from "./filter-parse.ts";
 * const filter = parseFilter('(level = 0 && data.ml_type = "trained_model") || name ~ "weather"');
 * ```
 */
export function parseFilter(source: string, options: ParseFilterOptions = {}): Filter {
  const parameter = options.parameter ?? "filter";
  const maxDepth = options.maxDepth ?? 64;
  const tokens = tokenize(source, parameter);
  let index = 0;
  const peek = (): Token => tokens[index]!;
  const next = (): Token => tokens[index++]!;
  const fail = (message: string, token: Token): never => {
    throw invalidQuery(message, { parameter, position: token.at });
  };
  const unexpected = (token: Token, wanted: string): never =>
    fail(`expected ${wanted}, found ${token.kind === "end" ? "end of input" : JSON.stringify(token.text)}`, token);

  const checkVariable = (token: Token): void => {
    const name = token.text.slice(1);
    const known = options.variables ?? [];
    if (!known.some((entry) => entry.endsWith(".") ? name.startsWith(entry) && name.length > entry.length : name === entry)) {
      fail(`unknown variable ${token.text}${known.length ? ` (known: ${known.map((entry) => `$${entry}${entry.endsWith(".") ? "*" : ""}`).join(", ")})` : ""}`, token);
    }
  };

  const comparison = (): Filter => {
    const fieldToken = next();
    if (fieldToken.kind !== "field") return unexpected(fieldToken, "a field name, \"(\" or \"!\"");
    const opToken = next();
    if (opToken.kind !== "op") return unexpected(opToken, "a comparison operator");
    const valueToken = next();
    const field = fieldToken.text;
    let op = OPERATORS[opToken.text]!;
    if (valueToken.kind === "field" && valueToken.text.startsWith("$")) {
      // `owner_id = $user.id`: the value is the caller's, bound later (see `bindVariables`).
      if (field.startsWith("$")) return fail("a variable cannot be compared with a variable", valueToken);
      checkVariable(valueToken);
      if (options.table) resolveField(options.table, field, { where: { parameter, position: fieldToken.at } });
      const compare: Filter = { kind: "compare", field, op, value: null, variable: valueToken.text.slice(1) };
      return opToken.text === "!~" ? { kind: "not", item: compare } : compare;
    }
    if (valueToken.kind !== "value") return unexpected(valueToken, "a value (string, number, true, false or null)");
    let value = valueToken.value ?? null;
    if (value === null) {
      if (op !== "eq" && op !== "ne") return fail(`operator ${opToken.text} cannot compare with null`, valueToken);
      value = op === "eq";
      op = "isnull";
    }
    if (field.startsWith("$")) {
      checkVariable(fieldToken);
      if (op === "icontains" && typeof value !== "string") return fail(`operator ${opToken.text} expects a string`, valueToken);
    } else if (options.table) {
      const ref = resolveField(options.table, field, { where: { parameter, position: fieldToken.at } });
      value = checkComparison(ref, op, value, { parameter, position: valueToken.at }) as FilterValue;
    } else if (op === "icontains" && typeof value !== "string") {
      return fail(`operator ${opToken.text} expects a string`, valueToken);
    }
    const compare: Filter = { kind: "compare", field, op, value };
    return opToken.text === "!~" ? { kind: "not", item: compare } : compare;
  };

  const unary = (depth: number): Filter => {
    const token = peek();
    if (depth > maxDepth) return fail(`expression nested deeper than ${maxDepth}`, token);
    if (token.kind === "!") {
      next();
      return { kind: "not", item: unary(depth + 1) };
    }
    if (token.kind === "(") {
      next();
      const inner = or(depth + 1);
      const close = next();
      if (close.kind !== ")") return unexpected(close, "\")\"");
      return inner;
    }
    return comparison();
  };

  const and = (depth: number): Filter => {
    const items = [unary(depth)];
    while (peek().kind === "&&") {
      next();
      items.push(unary(depth));
    }
    return items.length === 1 ? items[0]! : { kind: "and", items };
  };

  function or(depth: number): Filter {
    const items = [and(depth)];
    while (peek().kind === "||") {
      next();
      items.push(and(depth));
    }
    return items.length === 1 ? items[0]! : { kind: "or", items };
  }

  if (peek().kind === "end") fail("empty expression", peek());
  const filter = or(0);
  const rest = peek();
  if (rest.kind !== "end") unexpected(rest, "\"&&\", \"||\" or end of input");
  return filter;
}
