import { type SettingLeaf, settingLeaves } from "./_leaves.ts";
import { type LoadedSettings, settingAt } from "./load.ts";
import type { Settings } from "./schema.ts";

const MASK = "********";

/** A URL keeps its scheme, host and path and loses its password; any other secret is masked whole. */
function mask(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(() => MASK);
  if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (url.password) url.password = MASK;
      return url.toString();
    } catch {
      return MASK;
    }
  }
  return MASK;
}

function shownValue(leaf: SettingLeaf, settings: Settings): unknown {
  const value = settingAt(settings, leaf.path);
  return leaf.secret ? mask(value) : value;
}

/** The effective settings as a plain object with every secret masked (safe to log or show). */
export function maskedSettings(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const leaf of settingLeaves()) {
    const value = shownValue(leaf, settings);
    if (value === undefined) continue;
    let node = out;
    for (const part of leaf.path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[leaf.path[leaf.path.length - 1]!] = value;
  }
  return out;
}

/**
 * What `chapkit config` prints: one line per setting, `key = value` with
 * secrets masked, then where the value came from and the variables that set
 * it, and whether a change needs a restart.
 *
 * @example
 * ```ts ignore
 * console.log(renderSettings(await loadSettings({ env: processEnvironment() })));
 * // server.port = 8000    # default; env CHAPKIT_SERVER_PORT, PORT; restart
 * ```
 */
export function renderSettings(loaded: LoadedSettings): string {
  const rows = settingLeaves().map((leaf) => {
    const value = shownValue(leaf, loaded.settings);
    const text = value === undefined ? "(unset)" : JSON.stringify(value);
    const source = loaded.sources[leaf.key] ?? "default";
    return { left: `${leaf.key} = ${text}`, right: `# ${source}; env ${leaf.env.join(", ")}; ${leaf.reload ? "reloadable" : "restart"}` };
  });
  const width = Math.max(...rows.map((row) => row.left.length));
  return rows.map((row) => `${row.left.padEnd(width)}  ${row.right}`).join("\n") + "\n";
}
