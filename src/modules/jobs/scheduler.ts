import type { Cron } from "croner";
import { ConflictError, type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { toIso } from "../../core/time.ts";
import { unrefTimer } from "../../core/timers.ts";
import type { Driver, Row } from "../../db/driver.ts";
import type { InProcessJobRunner } from "./runner.ts";

/** What to do with ticks that passed while no instance was running. */
export type MissedPolicy = "skip" | "run_once";

/** A schedule as code gives it. */
export interface ScheduleSpec {
  /** Cron expression: five fields, or six with seconds first (croner syntax). */
  cron: string;
  /** The handler each tick enqueues a job for. */
  job: string;
  /** The payload of each job, checked against the handler's schema when scheduled (default `{}`). */
  payload?: unknown;
  /** IANA time zone the expression is read in (default UTC). */
  timezone?: string | null;
  /** Ticks missed while every instance was down: skip them, or run one job for them (default skip). */
  missed?: MissedPolicy;
}

/** A stored schedule as clients see it. */
export interface ScheduleRecord {
  /** Unique name. */
  name: string;
  /** Cron expression. */
  cron: string;
  /** Handler name. */
  job: string;
  /** Payload of each job. */
  payload: unknown;
  /** IANA time zone, or null for UTC. */
  timezone: string | null;
  /** Missed-tick policy. */
  missed: MissedPolicy;
  /** The next tick (ISO 8601 UTC). */
  next_run_at: string;
  /** The three ticks after it. */
  following_runs: string[];
  /** The last tick that enqueued a job, or null. */
  last_run_at: string | null;
  /** The job that tick enqueued, or null. */
  last_job_id: string | null;
  /** When the schedule was created. */
  created_at: string;
  /** When it was last changed. */
  updated_at: string;
}

/** Options of {@link JobScheduler}. */
export interface JobSchedulerOptions {
  /** Milliseconds between checks for due ticks (default 1 000). */
  tickMs?: number;
  /** A tick found due more than this many milliseconds late counts as missed (default 10 000). */
  missedAfterMs?: number;
  /** Where scheduler events are logged. */
  logger?: Logger;
}

const COLUMNS = "name, cron, job, payload, timezone, missed, next_run_at, last_run_at, last_job_id, created_at, updated_at";

/** Thrown inside a tick's transaction to roll back a job another instance already enqueued. */
class TickTaken extends Error {}

type CronClass = typeof Cron;

let croner: Promise<CronClass> | undefined;

/** croner, loaded with the first schedule read or written rather than when chapkit is imported. */
function cronClass(): Promise<CronClass> {
  return croner ??= import("croner").then((module) => module.Cron);
}

function cronOf(Cron: CronClass, spec: { cron: string; timezone?: string | null }): Cron {
  return new Cron(spec.cron, { paused: true, ...(spec.timezone ? { timezone: spec.timezone } : {}) });
}

function nextAfter(cron: Cron, after: Date): Date {
  const next = cron.nextRun(after);
  if (!next) throw new ValidationError([{ loc: ["body", "cron"], msg: "The expression has no future tick", type: "value_error" }]);
  return next;
}

function checkSpec(Cron: CronClass, spec: ScheduleSpec, runner: InProcessJobRunner): void {
  const errors: FieldError[] = [];
  try {
    nextAfter(cronOf(Cron, spec), new Date());
  } catch (error) {
    const message = error instanceof ValidationError ? "The expression has no future tick" : String((error as Error).message);
    errors.push({ loc: ["body", spec.timezone && message.includes("timezone") ? "timezone" : "cron"], msg: message, type: "value_error" });
  }
  if (!runner.handlerNames().includes(spec.job)) {
    errors.push({ loc: ["body", "job"], msg: `No job handler named "${spec.job}"`, type: "value_error" });
  } else {
    try {
      runner.checkPayload(spec.job, spec.payload ?? {});
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      errors.push(...error.errors);
    }
  }
  if (spec.missed !== undefined && spec.missed !== "skip" && spec.missed !== "run_once") {
    errors.push({ loc: ["body", "missed"], msg: "Input should be 'skip' or 'run_once'", type: "enum" });
  }
  if (errors.length > 0) throw new ValidationError(errors);
}

/**
 * Cron schedules stored beside the jobs (`job_schedules`). Every instance
 * checks for due ticks; a tick enqueues its job in the same transaction that
 * advances the schedule and records the (schedule, tick) pair under a
 * unique key, so each tick enqueues exactly one job across instances. A tick
 * found more than `missedAfterMs` late (every instance was down) follows the
 * schedule's `missed` policy: `skip` it, or `run_once` for all missed ticks.
 */
export class JobScheduler {
  readonly #db: Driver;
  readonly #runner: InProcessJobRunner;
  readonly #tickMs: number;
  readonly #missedAfterMs: number;
  readonly #logger: Logger | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking: Promise<void> | undefined;

  /** A scheduler over `db` (migrated) enqueuing through `runner`. */
  constructor(db: Driver, runner: InProcessJobRunner, options: JobSchedulerOptions = {}) {
    this.#db = db;
    this.#runner = runner;
    this.#tickMs = options.tickMs ?? 1_000;
    this.#missedAfterMs = options.missedAfterMs ?? 10_000;
    this.#logger = options.logger;
  }

  /** Starts checking for due ticks. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    unrefTimer(this.#timer);
    void this.tick();
  }

  /** Stops checking and waits for a check in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /**
   * Creates or replaces the schedule `name`; its next tick is computed from
   * now. @throws {ValidationError} for a bad expression, time zone, handler
   * or policy.
   */
  async schedule(name: string, spec: ScheduleSpec): Promise<ScheduleRecord> {
    const Cron = await cronClass();
    checkSpec(Cron, spec, this.#runner);
    const now = new Date();
    const next = nextAfter(cronOf(Cron, spec), now).toISOString();
    const values = [spec.cron, spec.job, JSON.stringify(spec.payload ?? {}), spec.timezone ?? null, spec.missed ?? "skip", next];
    await this.#db.transaction(async (tx) => {
      const { changes } = await tx.exec(
        "UPDATE job_schedules SET cron = ?, job = ?, payload = ?, timezone = ?, missed = ?, next_run_at = ?, updated_at = ? WHERE name = ?",
        [...values, now.toISOString(), name],
      );
      if (changes === 0) {
        await tx.exec(
          `INSERT INTO job_schedules (name, cron, job, payload, timezone, missed, next_run_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [name, ...values, now.toISOString(), now.toISOString()],
        );
      }
    });
    return await this.get(name);
  }

  /** Creates the schedule `name`. @throws {ConflictError} when it exists. */
  async create(name: string, spec: ScheduleSpec): Promise<ScheduleRecord> {
    if (await this.#row(name)) throw new ConflictError(`Schedule ${name} already exists`);
    return await this.schedule(name, spec);
  }

  /** Removes the schedule; its enqueued jobs stay. @throws {NotFoundError} */
  async unschedule(name: string): Promise<void> {
    const { changes } = await this.#db.exec("DELETE FROM job_schedules WHERE name = ?", [name]);
    if (changes === 0) throw new NotFoundError(`Schedule ${name} not found`);
  }

  /** The schedule. @throws {NotFoundError} */
  async get(name: string): Promise<ScheduleRecord> {
    const row = await this.#row(name);
    if (!row) throw new NotFoundError(`Schedule ${name} not found`);
    return decode(await cronClass(), row);
  }

  /** Every schedule, by name. */
  async list(): Promise<ScheduleRecord[]> {
    const rows = await this.#db.query(`SELECT ${COLUMNS} FROM job_schedules ORDER BY name`);
    const Cron = await cronClass();
    return rows.map((row) => decode(Cron, row));
  }

  /** Enqueues the jobs of every due tick once (also run by the timer). */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    try {
      const now = new Date();
      const due = await this.#db.query(`SELECT ${COLUMNS} FROM job_schedules WHERE next_run_at <= ? ORDER BY name`, [
        now.toISOString(),
      ]);
      for (const row of due) await this.#fire(row, now);
    } catch (failure) {
      this.#logger?.warn("jobs.schedules.failed", { error: failure });
    }
  }

  async #fire(row: Row, now: Date): Promise<void> {
    const Cron = await cronClass();
    const record = decode(Cron, row);
    const cron = cronOf(Cron, record);
    const tick = new Date(record.next_run_at);
    const late = now.getTime() - tick.getTime() > this.#missedAfterMs;
    // A normal tick advances to the one after it; after missed ticks, to the first one after now.
    const next = late ? nextAfter(cron, now) : nextAfter(cron, tick);
    const runs = !late || record.missed === "run_once";
    try {
      await this.#db.transaction(async (tx) => {
        const { changes } = await tx.exec(
          "UPDATE job_schedules SET next_run_at = ?, updated_at = ? WHERE name = ? AND next_run_at = ?",
          [next.toISOString(), now.toISOString(), record.name, tick.toISOString()],
        );
        if (changes === 0) throw new TickTaken();
        if (!runs) return;
        const [enqueued] = await this.#runner.enqueueMany([{ name: record.job, payload: record.payload }]);
        const jobId = enqueued!.record.id;
        await tx.exec("INSERT INTO job_schedule_ticks (schedule, tick, job_id) VALUES (?, ?, ?)", [
          record.name,
          tick.toISOString(),
          jobId,
        ]);
        await tx.exec("UPDATE job_schedules SET last_run_at = ?, last_job_id = ? WHERE name = ?", [
          tick.toISOString(),
          jobId,
          record.name,
        ]);
      });
      if (late) this.#logger?.info("jobs.schedules.missed", { schedule: record.name, tick: record.next_run_at, ran: runs });
    } catch (failure) {
      if (failure instanceof TickTaken) return;
      throw failure;
    }
  }

  async #row(name: string): Promise<Row | undefined> {
    return (await this.#db.query(`SELECT ${COLUMNS} FROM job_schedules WHERE name = ?`, [name]))[0];
  }
}

function decode(Cron: CronClass, row: Row): ScheduleRecord {
  const record = {
    name: String(row.name),
    cron: String(row.cron),
    job: String(row.job),
    payload: row.payload === null || row.payload === undefined ? null : JSON.parse(String(row.payload)),
    timezone: row.timezone === null || row.timezone === undefined ? null : String(row.timezone),
    missed: String(row.missed) as MissedPolicy,
    next_run_at: toIso(row.next_run_at as string | Date),
    following_runs: [] as string[],
    last_run_at: row.last_run_at === null || row.last_run_at === undefined ? null : toIso(row.last_run_at as string | Date),
    last_job_id: row.last_job_id === null || row.last_job_id === undefined ? null : String(row.last_job_id),
    created_at: toIso(row.created_at as string | Date),
    updated_at: toIso(row.updated_at as string | Date),
  };
  try {
    record.following_runs = cronOf(Cron, record).nextRuns(3, new Date(record.next_run_at)).map((date) => date.toISOString());
  } catch {
    // A schedule stored with a zone this runtime does not know shows no following runs.
  }
  return record;
}
