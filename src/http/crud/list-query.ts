import { type FieldError, ValidationError } from "../../core/errors.ts";
import { checkPageWindow, parsePageNumber } from "../../core/query/list-query.ts";
import type { ListQuery } from "../../core/query/model.ts";

/** A list request, parsed. */
export interface ParsedListQuery {
  /** What to ask the store for. */
  query: ListQuery;
  /** Present when the client asked for a page (both `page` and `size`). */
  page?: { page: number; size: number };
}

/**
 * Turns the query parameters of `GET {prefix}` into a store query. Replace it
 * to add filters, sorting, field selection or cursors.
 */
export type ListQueryParser = (params: Record<string, unknown>) => ParsedListQuery;

function first(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * The default list-query parser: opt-in pagination (contract §5). Both
 * `page` and `size` ask for the envelope; either alone is checked but the
 * answer stays a plain array. Non-integers and values below 1 answer 422
 * `validation-failed` naming the parameter. Other parameters are ignored.
 */
export function paginationQuery(params: Record<string, unknown>): ParsedListQuery {
  const rawPage = first(params.page);
  const rawSize = first(params.size);
  const errors: FieldError[] = [];
  const page = rawPage === undefined ? undefined : parsePageNumber("page", rawPage, errors);
  const size = rawSize === undefined ? undefined : parsePageNumber("size", rawSize, errors);
  if (errors.length > 0) throw new ValidationError(errors);
  if (page === undefined || size === undefined) return { query: {} };
  checkPageWindow(page, size);
  return { query: {}, page: { page, size } };
}
