/** `asc` sorts nulls first, `desc` nulls last, in every store. */
export type SortDirection = "asc" | "desc";

/** One sort key. `field` is a column or a dotted path into a JSON column. */
export interface SortKey {
  /** The column or dotted JSON path to sort by. */
  field: string;
  /** Ascending or descending. */
  direction: SortDirection;
}

/** Comparison operators of the filter model. */
export type FilterOperator =
  | "eq"
  | "ne"
  | "gt"
  | "gte"
  | "lt"
  | "lte"
  | "in"
  | "nin"
  | "contains"
  | "icontains"
  | "startswith"
  | "endswith"
  | "isnull";

/** A scalar a filter compares with. */
export type FilterValue = string | number | boolean | null;

/**
 * A filter expression tree. `field` is a column name or a dotted path into a
 * JSON column (`data.min_samples`). Values are always bound parameters.
 */
export type Filter =
  | {
    kind: "compare";
    field: string;
    op: FilterOperator;
    value: FilterValue | FilterValue[];
    /**
     * Set when the value is a variable (`owner_id = $user.id`): its name
     * (`user.id`); `value` is then a placeholder until `bindVariables` fills it.
     */
    variable?: string;
  }
  | { kind: "and"; items: Filter[] }
  | { kind: "or"; items: Filter[] }
  | { kind: "not"; item: Filter };

/**
 * What "find many" takes. Only the members a store supports are honoured; the
 * list-query grammar fills the rest.
 */
export interface ListQuery {
  /** Rows to return at most. */
  limit?: number;
  /** Rows to skip. */
  offset?: number;
  /**
   * Sort keys; ties are always broken by `id` ascending. Without sort: `id`
   * ascending, or best match first when `search` is given.
   */
  sort?: SortKey[];
  /** Row filter. */
  filter?: Filter;
  /** Keyset cursor: continue after the row whose sort values these are (with `search`, needs a `sort`). */
  after?: { values: unknown[]; id: string };
  /**
   * Full-text search over the entity's searchable columns: every word (a run
   * of letters, digits and marks) must match a whole word, case-insensitively;
   * the last word also matches as a prefix.
   */
  search?: string;
}

/** Builds an equality filter over several fields (`undefined` values are skipped). */
export function whereEquals(fields: Record<string, FilterValue | undefined>): Filter | undefined {
  const items: Filter[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    items.push(value === null ? { kind: "compare", field, op: "isnull", value: true } : {
      kind: "compare",
      field,
      op: "eq",
      value,
    });
  }
  if (items.length === 0) return undefined;
  return items.length === 1 ? items[0] : { kind: "and", items };
}
