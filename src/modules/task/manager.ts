import type { Static } from "@sinclair/typebox";
import { BadRequestError, NotFoundError, ValidationError } from "../../core/errors.ts";
import type { JobFunction, JobRunner } from "../jobs/types.ts";
import type { Monitoring } from "../../observability/monitoring.ts";
import { Manager, type ManagerEvents } from "../../core/manager.ts";
import type { Repository, UpdateValues } from "../../core/repository.ts";
import { validateValue } from "../../core/validation.ts";
import type { TaskFunctions } from "./functions.ts";
import { runTask, type TaskArtifacts } from "./run-task.ts";
import { ShellPolicy } from "./shell-policy.ts";
import { type TaskInSchema, TaskInSchema as TaskIn, type TaskOutSchema, TaskOutSchema as TaskOut, type TaskRecord } from "./schema.ts";

/** The message of `execute` on a manager without a job runner (a service refuses to build without `withJobs()`). */
export const NO_SCHEDULER_MESSAGE = "Task execution requires a job runner: build the service with withJobs().";

/** How a {@link TaskManager} is made. */
export interface TaskManagerOptions {
  /** Where tasks live. */
  repository: Repository<TaskRecord>;
  /** Task functions by name. */
  functions?: TaskFunctions;
  /** The job runner, or null when jobs are not enabled (read at each execution). */
  jobs(): JobRunner | null;
  /** Where result artifacts go (read at each execution). */
  artifacts(): TaskArtifacts;
  /** Whether and which shell tasks may be stored and run (default: none). */
  shell?: ShellPolicy;
  /** Times task jobs (kind `task`) when monitoring is on. */
  monitoring?: Monitoring;
  /** Publishes `entity.*` events of committed writes (collection `tasks`). */
  events?: ManagerEvents;
}

/** The 202 answer of `$execute`. */
export interface TaskExecution {
  /** The job running the task. */
  job_id: string;
  /** `Task submitted for execution. Job ID: …`. */
  message: string;
}

type TaskInput = Static<TaskInSchema>;

/**
 * Tasks (contract §11): CRUD over task templates, and {@link TaskManager.execute}
 * which submits a job that runs the task and stores its outcome as an artifact.
 * Works without HTTP.
 *
 * @example
 * ```ts ignore
 * const task = await tasks.create({ command: "echo hello" });
 * const { job_id } = await tasks.execute(task.id);
 * ```
 */
export class TaskManager extends Manager<TaskRecord, TaskInSchema, TaskOutSchema> {
  /** Task functions by name. */
  readonly functions: TaskFunctions;
  /** Whether and which shell tasks may be stored and run. */
  readonly shell: ShellPolicy;
  readonly #jobs: () => JobRunner | null;
  readonly #monitoring: Monitoring | undefined;
  readonly #artifacts: () => TaskArtifacts;

  constructor(options: TaskManagerOptions) {
    const functions = options.functions ?? {};
    const shell = options.shell ?? new ShellPolicy();
    const check = (input: TaskInput, existing: TaskRecord | null): void => {
      const type = input.task_type ?? existing?.task_type ?? "shell";
      if (type === "shell") shell.check(input.command);
      if (type === "function" && !Object.hasOwn(functions, input.command)) {
        const known = Object.keys(functions);
        throw new ValidationError([{
          loc: ["body", "command"],
          msg: `Unknown task function "${input.command}"; registered: ${known.length ? known.join(", ") : "none"}`,
          type: "value_error",
        }]);
      }
    };
    super({
      repository: options.repository,
      input: TaskIn,
      output: TaskOut,
      toValues: (input: TaskInput, existing: TaskRecord | null): UpdateValues<TaskRecord> => ({
        command: input.command,
        task_type: input.task_type ?? existing?.task_type ?? "shell",
        timeout_seconds: input.timeout_seconds === undefined
          ? existing?.timeout_seconds ?? null
          : input.timeout_seconds,
      }),
      toOutput: (record: TaskRecord) => ({
        id: record.id,
        created_at: record.created_at,
        updated_at: record.updated_at,
        command: record.command,
        task_type: record.task_type,
        timeout_seconds: record.timeout_seconds,
      }),
      hooks: {
        beforeCreate: (input) => check(input, null),
        beforeUpdate: (input, existing) => check(input, existing),
      },
      ...(options.events ? { events: options.events } : {}),
    });
    this.functions = functions;
    this.shell = shell;
    this.#jobs = options.jobs;
    this.#artifacts = options.artifacts;
    this.#monitoring = options.monitoring;
  }

  /**
   * Submits a job that runs the task. Function tasks take `params`, checked
   * against the function's schema now; shell tasks ignore them.
   *
   * @throws {BadRequestError} when jobs are not enabled.
   * @throws {ForbiddenError} for a shell task while shell tasks are off or the command is not allowed.
   * @throws {NotFoundError} when the task does not exist.
   * @throws {ValidationError} when `params` do not fit the function.
   */
  async execute(id: string, params?: unknown): Promise<TaskExecution> {
    const runner = this.#jobs();
    if (!runner) throw new BadRequestError(NO_SCHEDULER_MESSAGE);
    const task = await this.repository.findById(id);
    if (!task) throw new NotFoundError(`Task ${id} not found`);
    let checked: unknown = undefined;
    if (task.task_type === "function") {
      const fn = this.functions[task.command];
      if (!fn) throw new BadRequestError(`Task function "${task.command}" is not registered in this service`);
      checked = fn.params ? validateValue(fn.params, params ?? {}, { loc: ["body", "params"] }) : params ?? {};
    } else {
      this.shell.check(task.command);
    }
    const parts = { tasks: this.repository, functions: this.functions, artifacts: this.#artifacts(), shell: this.shell };
    const job: JobFunction = (context) => runTask(parts, id, checked, context);
    const jobId = await runner.submit(this.#monitoring ? this.#monitoring.timedJob("task", job) : job);
    return { job_id: jobId, message: `Task submitted for execution. Job ID: ${jobId}` };
  }
}
