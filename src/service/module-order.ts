import type { ServiceModule } from "../http/module.ts";
import { ConfigurationError } from "./configuration-error.ts";

const BUILDER_METHOD: Record<string, string> = {
  jobs: "withJobs()",
  webhooks: "withWebhooks()",
  etl: "withEtl()",
  queues: "withQueues()",
  notifications: "withNotifications()",
  config: "withConfig()",
  artifacts: "withArtifacts()",
  tasks: "withTasks()",
  ml: "withMl()",
  "config-links": "withArtifacts({ enableConfigLinking: true })",
};

function methodOf(name: string): string {
  if (name.startsWith("entity:")) return `withEntity(<${name.slice("entity:".length)} definition>)`;
  return BUILDER_METHOD[name] ?? `module(${name})`;
}

/**
 * Checks that module names are unique and every `requires` is installed,
 * then orders modules so that each comes after what it requires (otherwise
 * registration order, with `jobs` first as the contract mounts it).
 *
 * @throws {ConfigurationError} e.g. "withTasks() requires withArtifacts()".
 */
export function orderModules(modules: readonly ServiceModule[]): ServiceModule[] {
  const byName = new Map<string, ServiceModule>();
  for (const module of modules) {
    if (byName.has(module.name)) throw new ConfigurationError(`Module "${module.name}" is installed twice`);
    byName.set(module.name, module);
  }
  for (const module of modules) {
    for (const capability of module.provides ?? []) if (!byName.has(capability)) byName.set(capability, module);
  }
  for (const module of modules) {
    for (const required of module.requires ?? []) {
      if (!byName.has(required)) {
        throw new ConfigurationError(`${methodOf(module.name)} requires ${methodOf(required)}`);
      }
    }
  }
  const ordered: ServiceModule[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (module: ServiceModule): void => {
    if (placed.has(module.name)) return;
    if (visiting.has(module.name)) throw new ConfigurationError(`Modules require each other in a cycle at "${module.name}"`);
    visiting.add(module.name);
    for (const required of module.requires ?? []) place(byName.get(required)!);
    visiting.delete(module.name);
    placed.add(module.name);
    ordered.push(module);
  };
  const jobs = byName.get("jobs");
  if (jobs) place(jobs);
  for (const module of modules) place(module);
  return ordered;
}
