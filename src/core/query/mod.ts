/**
 * List queries: `filter`, `sort`, `fields`, `q`, paging and field filters read
 * from a request into one {@link ListQuery}, then answered as a page or a
 * cursor page.
 *
 * The query model, the filter grammar, field resolution, cursors and result
 * shaping live here, in `src/core/query/`, because they need neither a
 * driver nor Elysia: a manager, a script or a test parses and checks a query
 * without a database or a server. Two parts live elsewhere, as the layer
 * rule requires: the SQL a query compiles to needs a dialect, so it lives in
 * `src/db/` (`filter-sql.ts`, `field-sql.ts`, `search-sql.ts`), and binding a
 * query to a route needs Elysia, so it lives in `src/http/`
 * (`list-query-route.ts`, `crud/list-query.ts`). A field name resolves to
 * its column or JSON path once, by `resolveField` in `field.ts`; the SQL side
 * only renders the result.
 *
 * @module
 */
export type {
  Filter,
  FilterOperator,
  FilterValue,
  ListQuery,
  SortDirection,
  SortKey,
} from "./model.ts";
export { parseFilter } from "./filter-parse.ts";
export type { ParseFilterOptions } from "./filter-parse.ts";
export {
  parseFields,
  parseListQuery,
  parseSort,
  RESERVED_LIST_PARAMETERS,
} from "./list-query.ts";
export type { ListMode, ListQueryOptions, ListRequest } from "./list-query.ts";
export { runListRequest, selectFields } from "./list-result.ts";
export type {
  CursorPage,
  ListResult,
  ListSource,
  PageEnvelope,
} from "./list-result.ts";
export { decodeCursor, encodeCursor } from "./cursor.ts";
export type { CursorState } from "./cursor.ts";
export {
  bindVariables,
  FILTER_VARIABLES,
  matchesRow,
  variableValue,
} from "./filter-variables.ts";
export type { VariableSubject, VariableUser } from "./filter-variables.ts";
