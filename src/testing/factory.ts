/** Factories: valid inputs for entities and configs, different each time, overridable per test. */

/** Builds inputs from defaults that may use a sequence number (1, 2, 3, ...). */
export interface Factory<T extends Record<string, unknown>> {
  /** One input: the defaults for the next sequence number, with `overrides` on top. */
  build(overrides?: Partial<T>): T;
  /** `count` inputs, each with its own sequence number. */
  buildList(count: number, overrides?: Partial<T>): T[];
  /**
   * Builds an input and hands it to `create` (a manager's `create`, or a
   * function that POSTs it), returning what that returns.
   */
  create<R>(create: (input: T) => Promise<R> | R, overrides?: Partial<T>): Promise<R>;
}

/**
 * A factory from a defaults function; `n` counts up from 1 per factory, so
 * unique fields stay unique (`name: \`config-${n}\``).
 *
 * @example
 * ```ts ignore
 * const configs = factory((n) => ({ name: `config-${n}`, data: { min_samples: 5 } }));
 * await client.post("/api/v1/config", configs.build({ data: { min_samples: 1 } }));
 * ```
 */
export function factory<T extends Record<string, unknown>>(defaults: (n: number) => T): Factory<T> {
  let n = 0;
  const build = (overrides: Partial<T> = {}): T => ({ ...defaults(++n), ...overrides });
  return {
    build,
    buildList: (count, overrides) => Array.from({ length: count }, () => build(overrides)),
    create: async (create, overrides) => await create(build(overrides)),
  };
}
