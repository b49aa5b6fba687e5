import {
  type TLiteral,
  type TNull,
  type TNumber,
  type TObject,
  type TOptional,
  type TString,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { type EntityBaseProperties, entityInputSchema, entityOutputSchema } from "../../core/schema.ts";

/** How a task runs: a shell command line, or a TypeScript function registered by name. */
export type TaskType = "shell" | "function";

/** A stored task row. */
export interface TaskRecord extends EntityRecord {
  /** The shell command line, or the registered function's name for function tasks. */
  command: string;
  /** How the task runs. */
  task_type: TaskType;
  /** Seconds a run may take before it is stopped, or null for no limit. */
  timeout_seconds: number | null;
}

/** A task as the API answers it. */
export interface TaskOut {
  id: string;
  created_at: string;
  updated_at: string;
  command: string;
  task_type: TaskType;
  timeout_seconds: number | null;
}

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

/** The `tasks` table. */
export const tasksTable: TableDefinition = defineTable({
  name: "tasks",
  columns: {
    command: { type: "text" },
    task_type: { type: "text" },
    timeout_seconds: { type: "real", nullable: true },
  },
});

const TaskTypeSchema: TUnion<[TLiteral<"shell">, TLiteral<"function">]> = Type.Union([
  Type.Literal("shell"),
  Type.Literal("function"),
], { description: "`shell` (default): `command` runs through /bin/sh -c. `function`: `command` names a registered task function." });

const TimeoutSchema: TUnion<[TNumber, TNull]> = Type.Union([
  Type.Number({ exclusiveMinimum: 0 }),
  Type.Null(),
], { description: "Seconds a run may take (chapkit addition); a shell command is then killed (exit_code -9)." });

/** The task input schema type. */
export type TaskInSchema = TObject<
  { id: TOptional<TString> } & {
    command: TString;
    task_type: TOptional<typeof TaskTypeSchema>;
    timeout_seconds: TOptional<typeof TimeoutSchema>;
  }
>;

/** The task output schema type. */
export type TaskOutSchema = TObject<
  EntityBaseProperties & { command: TString; task_type: typeof TaskTypeSchema; timeout_seconds: typeof TimeoutSchema }
>;

/** Create and update body of a task: `command` required; `task_type` and `timeout_seconds` optional. */
export const TaskInSchema: TaskInSchema = entityInputSchema("TaskIn", {
  command: Type.String({ description: "Shell command line, or the task function's name" }),
  task_type: Type.Optional(TaskTypeSchema),
  timeout_seconds: Type.Optional(TimeoutSchema),
});

/** A task as answered: `id`, `created_at`, `updated_at`, `command`, `task_type`, `timeout_seconds`. */
export const TaskOutSchema: TaskOutSchema = entityOutputSchema("TaskOut", {
  command: Type.String(),
  task_type: TaskTypeSchema,
  timeout_seconds: TimeoutSchema,
});

/** The 202 body of `$execute`. */
export const TaskExecuteResponseSchema: TObject<{ job_id: TString; message: TString }> = Type.Object({
  job_id: Type.String(),
  message: Type.String(),
}, { title: "TaskExecuteResponse" });
