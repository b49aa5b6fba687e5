import type { DialectName } from "./driver.ts";

/** SQL of one migration step: one string for both dialects, or one per dialect. */
export type MigrationSql = string | Record<DialectName, string>;

/**
 * One versioned schema change of a module. Applied migrations are recorded
 * with a checksum of their `up` SQL; editing an applied migration makes
 * start-up fail with a clear message.
 */
export interface Migration {
  /** The module it belongs to (e.g. `config`, `artifacts`, `entity:notes`). */
  module: string;
  /** Version within the module, starting at 1, applied in order. */
  version: number;
  /** Short description. */
  name: string;
  /** Statements separated by `;` at line ends. */
  up: MigrationSql;
  /** Statements that undo `up`. */
  down?: MigrationSql;
  /**
   * Marks an `up` that drops, truncates, deletes or retypes data (see
   * `isDestructive`): without the mark such a migration is refused.
   */
  destructive?: boolean;
}
