import process from "node:process";

/** The process's resident set size in bytes (Bun and Deno both implement `process.memoryUsage`). */
export function residentMemoryBytes(): number {
  return process.memoryUsage.rss?.() ?? process.memoryUsage().rss;
}
