import { NotFoundError } from "../../core/errors.ts";
import type { JobContext } from "../jobs/types.ts";
import type { Repository } from "../../core/repository.ts";
import { validateValue } from "../../core/validation.ts";
import type { TaskFunction, TaskFunctions } from "./functions.ts";
import type { TaskRecord, TaskSnapshot } from "./schema.ts";
import { minimalEnvironment, runCommand } from "../../runtime/subprocess.ts";
import type { ShellPolicy } from "./shell-policy.ts";

/**
 * What the tasks module needs of the artifacts module: creating a root
 * artifact from JSON data (`ctx.get("artifacts")`).
 */
export interface TaskArtifacts {
  /** Creates an artifact and resolves with it (at least its `id`). */
  create(body: { id?: string; data: unknown; parent_id?: string | null }): Promise<{ id: string }>;
}

/** What a task job needs. */
export interface TaskRunParts {
  tasks: Repository<TaskRecord>;
  functions: TaskFunctions;
  artifacts: TaskArtifacts;
  /** Checked again at run time: the task may predate a stricter policy. */
  shell: ShellPolicy;
}

/** The `task` member of a result artifact. */
export function taskSnapshot(task: TaskRecord): TaskSnapshot {
  return { id: task.id, command: task.command, created_at: task.created_at, updated_at: task.updated_at };
}

function timeoutError(task: TaskRecord): Error {
  const error = new Error(`Task ${task.id} did not finish within ${task.timeout_seconds} s`);
  error.name = "TimeoutError";
  return error;
}

async function callFunction(
  fn: TaskFunction,
  params: unknown,
  task: TaskRecord,
  context: JobContext,
): Promise<unknown> {
  const controller = new AbortController();
  const forward = (): void => controller.abort(context.signal.reason);
  if (context.signal.aborted) forward();
  else context.signal.addEventListener("abort", forward, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = task.timeout_seconds === null ? null : new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError(task);
      controller.abort(error);
      reject(error);
    }, task.timeout_seconds! * 1000);
  });
  try {
    const run = Promise.resolve().then(() =>
      fn.run(params, { jobId: context.jobId, signal: controller.signal, task: taskSnapshot(task) })
    );
    return await (limit ? Promise.race([run, limit]) : run);
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener("abort", forward);
  }
}

/**
 * The work of one task job (contract §11.3): re-reads the task (a task
 * deleted since submission fails the job with `Task … not found`), runs it,
 * stores the outcome as a new root artifact and returns the artifact's id.
 * Shell tasks store `{task, stdout, stderr, exit_code}` (plus
 * `stdout_truncated`/`stderr_truncated: true` when output passed the cap);
 * function tasks store `{task, params, result}`. A canceled run stores
 * nothing: the job ends with the cancellation.
 */
export async function runTask(
  parts: TaskRunParts,
  id: string,
  params: unknown,
  context: JobContext,
): Promise<string> {
  const task = await parts.tasks.findById(id);
  if (!task) throw new NotFoundError(`Task ${id} not found`);
  let data: Record<string, unknown>;
  if (task.task_type === "function") {
    const fn = parts.functions[task.command];
    if (!fn) throw new NotFoundError(`Task function "${task.command}" is not registered`);
    const checked = fn.params ? validateValue(fn.params, params ?? {}, { loc: ["body", "params"] }) : params ?? {};
    const result = await callFunction(fn, checked, task, context);
    data = { task: taskSnapshot(task), params: checked, result: result === undefined ? null : result };
  } else {
    parts.shell.check(task.command);
    const options = parts.shell.options!;
    const outcome = await runCommand(task.command, {
      env: minimalEnvironment(options.env),
      timeoutMs: task.timeout_seconds === null ? null : task.timeout_seconds * 1000,
      signal: context.signal,
      ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
    });
    data = { task: taskSnapshot(task), stdout: outcome.stdout, stderr: outcome.stderr, exit_code: outcome.exitCode };
    if (outcome.stdoutTruncated) data.stdout_truncated = true;
    if (outcome.stderrTruncated) data.stderr_truncated = true;
  }
  context.signal.throwIfAborted();
  const artifact = await parts.artifacts.create({ data });
  return artifact.id;
}
