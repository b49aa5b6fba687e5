import { spawnSync } from "node:child_process";

/** What `promtool check metrics` said about an exposition. */
export interface PromtoolResult {
  /** Exit status: 0 when there is neither an error nor a lint warning. */
  status: number;
  /** Everything it printed (errors and lint warnings). */
  output: string;
}

/**
 * Runs the real `promtool check metrics` (Debian package `prometheus`, which
 * `.ci/run` installs) on a Prometheus text exposition.
 */
export function promtoolCheck(text: string): PromtoolResult {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (result.error) throw new Error(`promtool could not run (install the Debian package "prometheus"): ${result.error.message}`);
  return { status: result.status ?? -1, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}
