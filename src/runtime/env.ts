/** The process environment as a read-only map of variable names to values. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The process environment. This is the one place chapkit reads it; settings
 * (`src/core/settings/`) take the map as input, so tests pass their own.
 * Deno needs `--allow-env`; without it the environment reads as empty.
 */
export function processEnvironment(): Environment {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  try {
    return process?.env ?? {};
  } catch {
    return {};
  }
}
