import type { Static, TSchema } from "@sinclair/typebox";
import type { TaskSnapshot } from "./schema.ts";

/** What a task function receives besides its parameters. */
export interface TaskFunctionContext {
  /** The id of the job running it. */
  readonly jobId: string;
  /** Aborted when the job is canceled or the task's `timeout_seconds` passes. */
  readonly signal: AbortSignal;
  /** The task as it was when the job started. */
  readonly task: TaskSnapshot;
}

/**
 * A TypeScript function a task can run by name (`task_type: "function"`,
 * `command`: the name). `$execute` validates its body's `params` against
 * `params` (422 on mismatch); the return value becomes the result
 * artifact's `result`.
 */
export interface TaskFunction<P extends TSchema = TSchema> {
  /** TypeBox schema of the parameters (default: any JSON object). */
  params?: P;
  /** What the function does, for people reading the code and logs. */
  description?: string;
  /** Does the work; must return JSON-serialisable data (or nothing). */
  run(params: Static<P>, context: TaskFunctionContext): unknown;
}

/** Task functions by name. */
export type TaskFunctions = Record<string, TaskFunction>;

/**
 * Declares a task function with its parameter type inferred from the schema.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { taskFunction } from "./functions.ts";
 * const add = taskFunction({
 *   params: Type.Object({ a: Type.Number(), b: Type.Number() }),
 *   run: ({ a, b }) => ({ sum: a + b }),
 * });
 * ```
 */
export function taskFunction<P extends TSchema>(definition: TaskFunction<P>): TaskFunction<P> {
  return definition;
}
