/**
 * "Did you mean …?" for names a caller mistyped: the nearest known name by
 * edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours), when it is close enough to be a likely typo.
 */

/** The optimal-string-alignment distance between two strings (case-insensitive). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (s === t) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) rows.push([i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 0; j <= t.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row[j] = best;
    }
  }
  return rows[s.length]![t.length]!;
}

/**
 * The candidate nearest to `name`, or undefined when none is close: a
 * candidate counts when its distance is at most a third of the longer name
 * (at least 1, at most 3), or when one name is a prefix of the other by
 * letter case alone or by a missing `_`.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const plain = name.replaceAll("_", "").toLowerCase();
  for (const candidate of candidates) {
    if (candidate === name) continue;
    if (candidate.replaceAll("_", "").toLowerCase() === plain) return candidate;
    const distance = editDistance(name, candidate);
    const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3)));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `"; did you mean \`x\`?"` for the nearest candidate, or `""` when none is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const nearest = nearestName(name, candidates);
  return nearest === undefined ? "" : `; did you mean \`${nearest}\`?`;
}
