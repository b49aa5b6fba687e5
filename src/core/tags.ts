import { type TArray, type TString, Type } from "@sinclair/typebox";
import { ValidationError } from "./errors.ts";

const TAG = /^[A-Za-z0-9_-]+$/;
const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 100;

/** TypeBox schema of entity `tags` (chap profile): unique strings of letters, digits, `-` and `_`. */
export const TagsSchema: TArray<TString> = Type.Array(Type.String({ pattern: TAG.source, maxLength: MAX_TAG_LENGTH }), {
  maxItems: MAX_TAGS,
  default: [],
  description: "Up to 50 unique tags, each 1–100 letters, digits, `-` or `_`",
});

/**
 * Validates entity tags as chapkit 1.x does: an array of strings, each
 * non-empty, only letters, digits, `-` or `_`, at most 100 characters, no
 * duplicates, at most 50 of them. Absent or null means `[]`. Every problem
 * is reported in one 422 `value_error` on `loc`, joined with `"; "`.
 *
 * @throws {ValidationError} naming every problem.
 */
export function parseTags(value: unknown, loc: (string | number)[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new ValidationError([{ loc, msg: "Input should be a valid list", type: "list_type" }]);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((tag, index) => {
    if (typeof tag !== "string") problems.push(`Tag at index ${index} must be a string`);
    else if (tag.length === 0) problems.push(`Tag at index ${index} must not be empty`);
    else if (tag.length > MAX_TAG_LENGTH) problems.push(`Tag '${tag.slice(0, 20)}...' exceeds ${MAX_TAG_LENGTH} characters`);
    else if (!TAG.test(tag)) problems.push(`Tag '${tag}' contains invalid characters (only letters, digits, '-' and '_' are allowed)`);
    else if (seen.has(tag)) problems.push(`Duplicate tag '${tag}'`);
    if (typeof tag === "string") seen.add(tag);
  });
  if (value.length > MAX_TAGS) problems.push(`At most ${MAX_TAGS} tags are allowed, got ${value.length}`);
  if (problems.length > 0) {
    throw new ValidationError([{ loc, msg: `Value error, ${problems.join("; ")}`, type: "value_error" }]);
  }
  return value as string[];
}
