/**
 * The shape of conformance checks and profiles. A profile is a named, ordered
 * list of checks plus an optional probe that `--profile auto` uses to pick it.
 */
import type { ServiceClient } from "./client.ts";

/** What a check receives: a client bound to the service and the run's shared state. */
export interface CheckContext {
  /** HTTP client bound to the service under test. */
  readonly client: ServiceClient;
  /**
   * Values earlier checks left for later ones (e.g. the id of a config a CRUD
   * check created), keyed by name.
   */
  readonly state: Map<string, unknown>;
  /** Registers clean-up to run after every check (reverse order), pass or fail. */
  defer(cleanup: () => Promise<unknown>): void;
  /** Training and prediction bodies given with `--ml-data`, when any. */
  readonly mlData?: MlFixture;
  /** How long to wait for a job to finish, in ms. */
  readonly jobTimeoutMs: number;
}

/**
 * Bodies for a full train → predict round trip (`--ml-data FILE`): `config` is
 * the config `data`, `train` the `data` of `$train`, `predict` the `future` (and
 * optional `historic`) of `$predict`.
 */
export interface MlFixture {
  config?: Record<string, unknown>;
  train: { columns: string[]; data: unknown[][] };
  predict: { columns: string[]; data: unknown[][] };
  historic?: { columns: string[]; data: unknown[][] };
  geo?: unknown;
}

/** One named check. It passes by returning, fails by throwing, and is skipped by throwing {@link CheckSkipped}. */
export interface ConformanceCheck {
  /** Short name shown in the report, e.g. `config: create answers 201`. */
  readonly name: string;
  run(context: CheckContext): Promise<void>;
}

/** A named set of checks for one kind of service. */
export interface ConformanceProfile {
  /** The value of `--profile`. */
  readonly name: string;
  /** One line for `chapkit test --help`. */
  readonly description: string;
  /** Run in order; a later check may use what an earlier one left in `state`. */
  readonly checks: readonly ConformanceCheck[];
  /**
   * Whether the service looks like this profile; `--profile auto` takes the first
   * profile whose probe answers true, and `seed` otherwise.
   */
  detect?(client: ServiceClient): Promise<boolean>;
}

/** Thrown by a check that does not apply to this service (e.g. no ML endpoints). */
export class CheckSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CheckSkipped";
  }
}

/** A deviation from the contract, with what was expected and what came. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckFailed";
  }
}

/** Skips the running check. */
export function skip(reason: string): never {
  throw new CheckSkipped(reason);
}

/** Fails the running check unless `condition` holds. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}
