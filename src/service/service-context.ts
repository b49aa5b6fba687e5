import type { EventBus } from "../core/events/bus.ts";
import type { ServiceInfo } from "../core/info.ts";
import type { Logger } from "../core/logging.ts";
import type { Driver } from "../db/driver.ts";
import type { ServiceContext } from "../http/module.ts";
import type { Monitoring } from "../observability/monitoring.ts";
import type { Settings } from "../core/settings/schema.ts";

/** The parts a {@link ServiceContext} is made of. */
export interface ServiceContextParts {
  db: Driver;
  /** The service's event bus. */
  events: EventBus;
  info: ServiceInfo;
  logger: Logger;
  instanceId: string;
  monitoring?: Monitoring;
  /** The live settings; `context.settings` always shows the current values. */
  settings: { readonly current: Settings };
}

/** Creates the context modules share while a service is assembled and runs. */
export function createServiceContext(parts: ServiceContextParts): ServiceContext {
  const registry = new Map<string, unknown>();
  return {
    db: parts.db,
    events: parts.events,
    info: parts.info,
    logger: parts.logger,
    instanceId: parts.instanceId,
    ...(parts.monitoring ? { monitoring: parts.monitoring } : {}),
    get settings(): Settings {
      return parts.settings.current;
    },
    provide<T>(key: string, value: T): void {
      if (registry.has(key)) throw new Error(`A value is already provided under "${key}"`);
      registry.set(key, value);
    },
    get<T>(key: string): T {
      if (!registry.has(key)) {
        throw new Error(`Nothing is provided under "${key}": install the module that provides it (e.g. the "${key}" module)`);
      }
      return registry.get(key) as T;
    },
    has(key: string): boolean {
      return registry.has(key);
    },
  };
}
