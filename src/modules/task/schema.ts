import {
  type Static,
  type TLiteral,
  type TNull,
  type TNumber,
  type TObject,
  type TOptional,
  type TString,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import type { TableDefinition } from "../../core/entity.ts";
import { defineEntity, type EntityDefinition, type EntityRecordOf, field, type StoredField } from "../../core/entity-definition.ts";

/** How a task runs: a shell command line, or a TypeScript function registered by name. */
export type TaskType = "shell" | "function";

/** A stored task row. */
export type TaskRecord = EntityRecordOf<typeof Task>;

/** A task as the API answers it. */
export type TaskOut = Static<typeof Task.output>;

/** The `task` member of a result artifact: the task as it was when the job ran (contract §11.3). */
export interface TaskSnapshot {
  /** The task id. */
  id: string;
  /** The shell command or the task function's name. */
  command: string;
  /** When the task was created. */
  created_at: string;
  /** When the task was last changed. */
  updated_at: string;
}

const TaskTypeSchema: TUnion<[TLiteral<"shell">, TLiteral<"function">]> = Type.Union([
  Type.Literal("shell"),
  Type.Literal("function"),
], { description: "`shell` (default): `command` runs through /bin/sh -c. `function`: `command` names a registered task function." });

const TimeoutSchema: TUnion<[TNumber, TNull]> = Type.Union([
  Type.Number({ exclusiveMinimum: 0 }),
  Type.Null(),
], { description: "Seconds a run may take (chapkit addition); a shell command is then killed (exit_code -9)." });

/**
 * The task entity, defined once: the `tasks` table, `TaskIn` (`command`
 * required; `task_type` and `timeout_seconds` optional) and `TaskOut`
 * (`task_type` always present: the manager stores `shell` when it is left out).
 */
export const Task: EntityDefinition<{
  command: TString;
  task_type: StoredField<TOptional<typeof TaskTypeSchema>>;
  timeout_seconds: TOptional<typeof TimeoutSchema>;
}, "tasks"> = defineEntity({
  table: "tasks",
  name: "Task",
  fields: {
    command: Type.String({ description: "Shell command line, or the task function's name" }),
    task_type: field(Type.Optional(TaskTypeSchema), { nullable: false }),
    timeout_seconds: Type.Optional(TimeoutSchema),
  },
});

/** The `tasks` table. */
export const tasksTable: TableDefinition = Task.table;

/** The task input schema type. */
export type TaskInSchema = typeof Task.input;

/** The task output schema type. */
export type TaskOutSchema = typeof Task.output;

/** Create and update body of a task: `command` required; `task_type` and `timeout_seconds` optional. */
export const TaskInSchema: TaskInSchema = Task.input;

/** A task as answered: `id`, `created_at`, `updated_at`, `command`, `task_type`, `timeout_seconds`. */
export const TaskOutSchema: TaskOutSchema = Task.output;

/** The 202 body of `$execute`. */
export const TaskExecuteResponseSchema: TObject<{ job_id: TString; message: TString }> = Type.Object({
  job_id: Type.String(),
  message: Type.String(),
}, { title: "TaskExecuteResponse" });
