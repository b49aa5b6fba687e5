import type { JobRunner } from "../jobs/types.ts";
import type { CrudPermissions } from "../../http/crud/crud-router.ts";
import { registerSubscribable } from "../../http/realtime/collections.ts";
import { tasksTable } from "./schema.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import type { TaskFunctions } from "./functions.ts";
import { TaskManager } from "./manager.ts";
import { tasksRoutes } from "./routes.ts";
import type { TaskArtifacts } from "./run-task.ts";
import { type ShellSetting, ShellPolicy } from "./shell-policy.ts";
import { createTaskRepository, TASKS_MIGRATIONS } from "./store.ts";

/** The key under which the tasks module provides its {@link TaskManager}. */
export const TASKS_KEY = "tasks";

/** Options of {@link tasksModule}. */
export interface TasksModuleOptions {
  /** Path prefix (default `/api/v1/tasks`). */
  prefix?: string;
  /** OpenAPI tags (default `["tasks"]`). */
  tags?: string[];
  /** Which generic CRUD routes exist; `$execute` always does. */
  permissions?: CrudPermissions;
  /** TypeScript task functions by name, run by tasks with `task_type: "function"` and `command` = the name. */
  functions?: TaskFunctions;
  /**
   * Shell tasks run any command the service's user may run, so they are
   * off by default: creating or running one answers 403. `true` allows any
   * command; `{ commands }` an allowlist. With auth, creating or changing a
   * shell task also needs the `tasks:shell` permission (admin only by default).
   */
  shell?: ShellSetting;
}

/**
 * The tasks module (module name and provided key `tasks`; requires
 * `artifacts` and `jobs`, so a service missing either fails at `build()`): task CRUD under `/api/v1/tasks` and `$execute`, which runs a
 * registered TypeScript function, or (only when `shell` enables them) a
 * shell command (`/bin/sh -c`, minimal environment), as a job (with the
 * `jobs` module) and stores the outcome as a new root artifact.
 *
 * @example
 * ```ts ignore
 * import { Type } from "@sinclair/typebox";
 * const service = new ServiceBuilder({ info })
 *   .module(jobsModule())
 *   .module(artifactsModule())
 *   .module(tasksModule({
 *     functions: {
 *       add: taskFunction({
 *         params: Type.Object({ a: Type.Number(), b: Type.Number() }),
 *         run: ({ a, b }) => ({ sum: a + b }),
 *       }),
 *     },
 *   }));
 * ```
 */
export function tasksModule(options: TasksModuleOptions = {}): ServiceModule {
  return {
    name: "tasks",
    requires: ["artifacts", "jobs"],
    migrations: TASKS_MIGRATIONS,
    setup(context: ServiceContext): void {
      const manager = new TaskManager({
        repository: createTaskRepository(context.db),
        ...(options.functions ? { functions: options.functions } : {}),
        shell: new ShellPolicy(options.shell ?? false),
        jobs: () => (context.has("jobs") ? context.get<JobRunner>("jobs") : null),
        artifacts: () => context.get<TaskArtifacts>("artifacts"),
        ...(context.monitoring ? { monitoring: context.monitoring } : {}),
        events: { bus: context.events, collection: "tasks" },
      });
      context.provide<TaskManager>(TASKS_KEY, manager);
      registerSubscribable(context, { collection: "tasks", prefix: options.prefix ?? "/api/v1/tasks", table: tasksTable });
    },
    routes(context: ServiceContext) {
      return tasksRoutes(context.get<TaskManager>(TASKS_KEY), {
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.tags === undefined ? {} : { tags: options.tags }),
        ...(options.permissions === undefined ? {} : { permissions: options.permissions }),
      });
    },
  };
}
