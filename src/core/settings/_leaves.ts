import type { TSchema } from "@sinclair/typebox";
import { SettingsSchema } from "./schema.ts";

/** One setting of the schema: where it sits, how the environment names it, its type. */
export interface SettingLeaf {
  /** Path in the settings object, e.g. `["server", "port"]`. */
  path: readonly string[];
  /** Dotted path, e.g. `server.port` (the config file key). */
  key: string;
  /** Environment variables read for it, the derived `CHAPKIT_*` name first. */
  env: readonly string[];
  schema: TSchema;
  secret: boolean;
  reload: boolean;
}

const snake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();

/** `["rateLimit", "perMinute"]` → `CHAPKIT_RATE_LIMIT_PER_MINUTE`. */
export function derivedEnvName(path: readonly string[]): string {
  return `CHAPKIT_${path.map(snake).join("_")}`;
}

function isGroup(schema: TSchema): boolean {
  return schema.type === "object" && typeof schema.properties === "object" && schema.properties !== null;
}

function collect(schema: TSchema, path: string[], into: SettingLeaf[]): void {
  for (const [name, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const at = [...path, name];
    if (isGroup(child)) {
      collect(child, at, into);
      continue;
    }
    const extra = (child.env as readonly string[] | undefined) ?? [];
    into.push({
      path: at,
      key: at.join("."),
      env: [derivedEnvName(at), ...extra],
      schema: child,
      secret: child.secret === true,
      reload: child.reload === true,
    });
  }
}

let cached: SettingLeaf[] | undefined;

/** Every setting of {@link SettingsSchema}, in schema order. */
export function settingLeaves(): readonly SettingLeaf[] {
  if (!cached) {
    cached = [];
    collect(SettingsSchema, [], cached);
  }
  return cached;
}
