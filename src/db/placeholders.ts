/** SQL placeholder rewriting, apart from the PostgreSQL driver so that using it does not load postgres.js. */

const placeholderCache = new Map<string, string>();

/**
 * `sql` with each `?` placeholder outside quoted text and identifiers replaced
 * by `replace(index)` (0-based, in order of appearance).
 */
export function replacePlaceholders(sql: string, replace: (index: number) => string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === "?") {
      out += replace(n++);
    } else {
      out += char;
    }
  }
  return out;
}

const numbered = (index: number): string => `$${index + 1}`;

/** Rewrites `?` placeholders to `$1…`, leaving quoted text alone. */
export function toPostgresPlaceholders(sql: string): string {
  const cached = placeholderCache.get(sql);
  if (cached !== undefined) return cached;
  const out = replacePlaceholders(sql, numbered);
  if (placeholderCache.size > 2000) placeholderCache.clear();
  placeholderCache.set(sql, out);
  return out;
}
