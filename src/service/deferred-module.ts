import type { AnyElysia } from "elysia";
import type { HealthCheck, ServiceContext, ServiceModule } from "../http/module.ts";
import type { Migration } from "../db/migration.ts";

/**
 * A module whose code is imported when the service is built, not when chapkit
 * is imported: `withAuth()` and `withMl()` install one, so a service without
 * auth or ML never loads their code (and start-up stays short).
 */
export interface DeferredModule<M extends ServiceModule = ServiceModule> extends ServiceModule {
  /** Imports and creates the module; later calls return the same one. */
  load(): Promise<M>;
  /** The loaded module. @throws {Error} before `load()` resolved. */
  readonly loaded: M;
}

/** What is known of a deferred module before its code is loaded. */
export interface DeferredModuleShape {
  readonly name: string;
  readonly requires?: readonly string[];
  readonly provides?: readonly string[];
}

/** A module that imports its implementation with `load` on first need; every hook delegates to it. */
export function deferredModule<M extends ServiceModule>(shape: DeferredModuleShape, load: () => Promise<M>): DeferredModule<M> {
  let module: M | undefined;
  let loading: Promise<M> | undefined;
  const loaded = (): M => {
    if (!module) throw new Error(`The ${shape.name} module is used before it was loaded`);
    return module;
  };
  return {
    ...shape,
    load(): Promise<M> {
      loading ??= load().then((created) => (module = created));
      return loading;
    },
    get loaded(): M {
      return loaded();
    },
    get migrations(): readonly Migration[] | undefined {
      return loaded().migrations;
    },
    async setup(context: ServiceContext): Promise<void> {
      await loaded().setup?.(context);
    },
    routes(context: ServiceContext): AnyElysia {
      // A module without routes answers undefined, which the builder skips.
      return loaded().routes?.(context) as AnyElysia;
    },
    healthChecks(context: ServiceContext): HealthCheck[] {
      return loaded().healthChecks?.(context) ?? [];
    },
    async start(context: ServiceContext): Promise<void> {
      await loaded().start?.(context);
    },
    async stop(context: ServiceContext): Promise<void> {
      // A build that failed before loading has nothing to stop.
      if (module) await module.stop?.(context);
    },
  } as DeferredModule<M>;
}

/** Loads every deferred module among `modules` (in parallel). */
export async function loadDeferred(modules: readonly ServiceModule[]): Promise<void> {
  await Promise.all(modules.map((module) => "load" in module && typeof module.load === "function" ? (module as DeferredModule).load() : undefined));
}
