/** SQL placeholder rewriting, apart from the PostgreSQL driver so that using it does not load postgres.js. */

const placeholderCache = new Map<string, string>();
const partsCache = new Map<string, readonly string[]>();
/** Statements longer than this (bulk inserts, mostly) are cut again each time rather than kept. */
const CACHED_SQL_CHARS = 4096;

/**
 * `sql` cut at each `?` placeholder outside quoted text and identifiers:
 * n placeholders give n + 1 parts. Kept per statement text, as the same
 * statements come back with every request.
 */
function placeholderParts(sql: string): readonly string[] {
  const cached = partsCache.get(sql);
  if (cached !== undefined) return cached;
  const parts: string[] = [];
  let start = 0;
  let quote = 0;
  for (let i = 0; i < sql.length; i++) {
    const char = sql.charCodeAt(i);
    if (quote !== 0) {
      if (char === quote) quote = 0;
    } else if (char === 39 || char === 34) { // ' or "
      quote = char;
    } else if (char === 63) { // ?
      parts.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(sql.slice(start));
  return remember(partsCache, sql, parts);
}

/** Keeps `value` for the statement text unless the text is too long to keep; the cache starts over past 2,000. */
function remember<T>(cache: Map<string, T>, sql: string, value: T): T {
  if (sql.length <= CACHED_SQL_CHARS) {
    if (cache.size > 2000) cache.clear();
    cache.set(sql, value);
  }
  return value;
}

/**
 * `sql` with each `?` placeholder outside quoted text and identifiers replaced
 * by `replace(index)` (0-based, in order of appearance).
 */
export function replacePlaceholders(sql: string, replace: (index: number) => string): string {
  const parts = placeholderParts(sql);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i++) out += replace(i - 1) + parts[i]!;
  return out;
}

const numbered = (index: number): string => `$${index + 1}`;

/** Rewrites `?` placeholders to `$1…`, leaving quoted text alone. */
export function toPostgresPlaceholders(sql: string): string {
  const cached = placeholderCache.get(sql);
  if (cached !== undefined) return cached;
  return remember(placeholderCache, sql, replacePlaceholders(sql, numbered));
}
