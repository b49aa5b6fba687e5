import { AsyncLocalStorage } from "node:async_hooks";
import { UnavailableError } from "../core/errors.ts";
import type { CircuitBreaker } from "../core/circuit-breaker.ts";
import type { Driver, Executor, PipelineOptions, Row, SqlValue, TransactionOptions } from "./driver.ts";
import type { PoolStats } from "./instrumented-driver.ts";
import { redact } from "./_redact.ts";
import { unrefTimer } from "../core/timers.ts";

/** Options of {@link replicated}. */
export interface ReplicaOptions {
  /** Milliseconds a client's reads stay on the primary after its write (read-your-writes; default 5000). */
  stickyMs?: number;
  /** Milliseconds between health checks of each replica (default 1000). */
  healthIntervalMs?: number;
  /** A replica whose replay lags more than this many milliseconds gets no reads (default 10 000; 0: no lag check). */
  maxLagMs?: number;
  /** Opens a replica's driver; the health check calls it again while the replica cannot be reached. */
  open: (url: string) => Promise<Driver>;
}

/** The state of one replica, as its last health check saw it. */
export interface ReplicaStatus {
  /** The replica's URL, password removed. */
  url: string;
  /** Whether reads go to it. */
  healthy: boolean;
  /** Its replay lag in milliseconds at the last check (0 when it has replayed everything it received), or null when unknown. */
  lagMs: number | null;
  /** Why it gets no reads, when it does not. */
  reason?: string;
}

interface Replica {
  url: string;
  driver: Driver | null;
  opening: Promise<void> | null;
  healthy: boolean;
  lagMs: number | null;
  reason?: string;
}

interface ReadScope {
  client: string | undefined;
  /** The scope wrote: its later reads go to the primary. */
  wrote: boolean;
}

/** Statements that read but must see the primary: row locks, sequences, notifications, locks and session state. */
const PRIMARY_ONLY = /\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\b(?:nextval|setval|currval|pg_notify|pg_advisory\w*|pg_try_advisory\w*|set_config|txid_current\w*|pg_current_wal\w*|pg_locks|pg_stat_activity)\b/i;

/** Whether a statement only reads, so a replica may answer it. */
function readsOnly(sql: string): boolean {
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase();
  if (word !== "select" && word !== "with" && word !== "values" && word !== "table") return false;
  if (word === "with" && /\b(?:insert|update|delete|merge)\b/i.test(sql)) return false;
  return !PRIMARY_ONLY.test(sql);
}

/** An error after which the read is run again on the primary: the replica is unreachable or cancelled it (recovery conflict). */
function isReplicaFailure(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === "40001" || code === "57P01" || code === "57P03" || code === "ECONNREFUSED" || code === "CONNECTION_CLOSED") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

const LAG_SQL = `SELECT pg_is_in_recovery() AS standby,
  CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0) END AS lag_ms`;

/** Clients remembered for read-your-writes at most; the oldest are forgotten first. */
const MAX_CLIENTS = 10_000;

/**
 * A PostgreSQL primary with read replicas: reads made inside a read scope
 * ({@link ReplicatedDriver.readScope}, which the service opens for every HTTP
 * request) go to a healthy replica, round robin; everything else goes to the
 * primary: writes, transactions, row-locking or sequence-reading selects,
 * notifications, and every statement of background work (jobs, schedules,
 * outbox), which must see its own writes at once.
 *
 * Read-your-writes: once a scope has written, its later reads go to the
 * primary; a client that wrote keeps reading the primary for `stickyMs`
 * (its later requests included). A replica that cannot be reached, lags more
 * than `maxLagMs` or cancels a read (recovery conflict) gets no reads until a
 * health check finds it well again; the failed read is run on the primary, so
 * callers never see a replica's outage.
 */
export class ReplicatedDriver implements Driver {
  readonly dialect = "postgres" as const;
  readonly #primary: Driver;
  readonly #replicas: Replica[];
  /** The replicas' URLs as given (with password), by index of {@link #replicas}. */
  readonly #urls: string[];
  readonly #options: Required<Omit<ReplicaOptions, "open">> & Pick<ReplicaOptions, "open">;
  readonly #scope = new AsyncLocalStorage<ReadScope>();
  /** Client → the time until which its reads stay on the primary. */
  readonly #recent = new Map<string, number>();
  readonly #timer: ReturnType<typeof setInterval>;
  #next = 0;
  #closed = false;

  /** Wraps an open primary; replicas open in the background and are health-checked from then on. */
  constructor(primary: Driver, replicaUrls: readonly string[], options: ReplicaOptions) {
    if (primary.dialect !== "postgres") throw new TypeError("Read replicas need a PostgreSQL primary");
    this.#primary = primary;
    this.#options = { stickyMs: 5000, healthIntervalMs: 1000, maxLagMs: 10_000, ...options };
    this.#replicas = replicaUrls.map((url) => ({ url: redact(url), driver: null, opening: null, healthy: false, lagMs: null, reason: "not checked yet" }));
    this.#urls = [...replicaUrls];
    this.#timer = setInterval(() => void this.checkReplicas(), this.#options.healthIntervalMs);
    unrefTimer(this.#timer);
  }

  get url(): string {
    return this.#primary.url;
  }

  get circuit(): CircuitBreaker | undefined {
    return this.#primary.circuit;
  }

  /** The primary's pool occupancy (replicas have pools of their own). */
  poolStats(): PoolStats {
    const pooled = this.#primary as Partial<{ poolStats(): PoolStats }>;
    return pooled.poolStats?.() ?? { max: 0, active: 0, waiting: 0 };
  }

  /** The replicas as their last health check saw them. */
  replicaStatus(): ReplicaStatus[] {
    return this.#replicas.map(({ url, healthy, lagMs, reason }) => ({ url, healthy, lagMs, ...(reason === undefined ? {} : { reason }) }));
  }

  /**
   * Runs `fn` in a read scope of `client` (a key for the caller: its
   * credentials or address): its reads may go to replicas until it writes,
   * or while `client` wrote within `stickyMs`.
   */
  readScope<T>(client: string | undefined, fn: () => T): T {
    return this.#scope.run({ client, wrote: false }, fn);
  }

  /** Checks every replica now (the timer does it every `healthIntervalMs`): opens those not open, reads their lag. */
  async checkReplicas(): Promise<void> {
    await Promise.all(this.#replicas.map((replica, index) => this.#check(replica, this.#urls[index]!)));
  }

  async #check(replica: Replica, url: string): Promise<void> {
    if (this.#closed) return;
    if (!replica.driver) {
      replica.opening ??= this.#options.open(url).then((driver) => {
        if (this.#closed) void driver.close();
        else replica.driver = driver;
      }, (error: unknown) => this.#down(replica, error)).finally(() => (replica.opening = null));
      await replica.opening;
      if (!replica.driver) return;
    }
    try {
      const [row] = await replica.driver.query<{ standby: boolean; lag_ms: number | string }>(LAG_SQL);
      const lag = Math.round(Number(row?.lag_ms ?? 0));
      replica.lagMs = lag;
      if (this.#options.maxLagMs > 0 && lag > this.#options.maxLagMs) {
        replica.healthy = false;
        replica.reason = `replay lags ${lag} ms (more than ${this.#options.maxLagMs})`;
      } else {
        replica.healthy = true;
        delete replica.reason;
      }
    } catch (error) {
      this.#down(replica, error);
    }
  }

  #down(replica: Replica, error: unknown): void {
    replica.healthy = false;
    replica.lagMs = null;
    replica.reason = error instanceof Error ? error.message : String(error);
  }

  /** A healthy replica for a read here, or null when the read must go to the primary. */
  #replicaFor(sql: string): Replica | null {
    const scope = this.#scope.getStore();
    if (!scope || scope.wrote || this.#primary.inTransaction?.()) return null;
    if (scope.client !== undefined) {
      const until = this.#recent.get(scope.client);
      if (until !== undefined) {
        if (until > Date.now()) return null;
        this.#recent.delete(scope.client);
      }
    }
    if (!readsOnly(sql)) return null;
    for (let tried = 0; tried < this.#replicas.length; tried++) {
      const replica = this.#replicas[this.#next++ % this.#replicas.length]!;
      if (replica.healthy && replica.driver) return replica;
    }
    return null;
  }

  /** Records a write of the current scope and its client. */
  #wrote(): void {
    const scope = this.#scope.getStore();
    if (!scope) return;
    scope.wrote = true;
    if (scope.client === undefined || this.#options.stickyMs <= 0) return;
    this.#recent.delete(scope.client);
    this.#recent.set(scope.client, Date.now() + this.#options.stickyMs);
    if (this.#recent.size > MAX_CLIENTS) this.#recent.delete(this.#recent.keys().next().value!);
  }

  async #read<T>(sql: string, onReplica: (driver: Driver) => Promise<T>, onPrimary: () => Promise<T>): Promise<T> {
    const replica = this.#replicaFor(sql);
    if (!replica) {
      if (!readsOnly(sql)) this.#wrote();
      return onPrimary();
    }
    try {
      return await onReplica(replica.driver!);
    } catch (error) {
      if (!isReplicaFailure(error)) throw error;
      this.#down(replica, error);
      return onPrimary();
    }
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#read(sql, (driver) => driver.query<T>(sql, params), () => this.#primary.query<T>(sql, params));
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    this.#wrote();
    return this.#primary.exec(sql, params);
  }

  async *stream<T extends Row = Row>(sql: string, params?: readonly SqlValue[], batchSize?: number): AsyncIterable<T[]> {
    const replica = this.#replicaFor(sql);
    const driver = replica?.driver ?? this.#primary;
    if (!driver.stream) {
      yield await this.query<T>(sql, params);
      return;
    }
    yield* driver.stream<T>(sql, params, batchSize);
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>, options?: TransactionOptions): Promise<T> {
    if (!options?.readOnly) this.#wrote();
    return this.#primary.transaction((tx) => fn(tx === this.#primary ? this : tx), options);
  }

  inTransaction(): boolean {
    return this.#primary.inTransaction?.() ?? false;
  }

  afterTransaction(fn: () => unknown): void | Promise<void> {
    return this.#primary.afterTransaction?.(fn);
  }

  pipeline<T extends Row = Row>(sql: string, params?: readonly SqlValue[], options?: PipelineOptions): Promise<T[]> | undefined {
    return this.#primary.pipeline?.<T>(sql, params, options);
  }

  get listen(): Driver["listen"] {
    const primary = this.#primary;
    return primary.listen ? (channel, onNotify, options) => primary.listen!(channel, onNotify, options) : undefined;
  }

  ping(timeoutMs?: number): Promise<void> {
    return this.#primary.ping(timeoutMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all(this.#replicas.map(async (replica) => {
      await replica.opening;
      await replica.driver?.close().catch(() => {});
      replica.driver = null;
    }));
    await this.#primary.close();
  }
}

/**
 * A primary with read replicas (see {@link ReplicatedDriver}); the first
 * health check runs before it resolves, so a replica that is up takes reads
 * at once. A replica that is down does not stop it: it is retried.
 *
 * @example
 * ```ts ignore
 * const db = await replicated(await openDatabase(primaryUrl), [replicaUrl], { open: (url) => openDatabase(url) });
 * await db.readScope("client-1", () => db.query("SELECT count(*) FROM notes")); // a replica answers
 * ```
 */
export async function replicated(primary: Driver, replicaUrls: readonly string[], options: ReplicaOptions): Promise<ReplicatedDriver> {
  const driver = new ReplicatedDriver(primary, replicaUrls, options);
  await driver.checkReplicas();
  return driver;
}
