import {
  type LoadedSettings,
  loadSettings,
  readSettingsFile,
  type SecretResolver,
  settingAt,
  settingLeaves,
  type SettingSource,
} from "../core/settings/load.ts";
import { renderSettings } from "../core/settings/render.ts";
import type { Settings, SettingsInput } from "../core/settings/schema.ts";
import { type Environment, processEnvironment } from "../runtime/env.ts";

/** Where a service reads its settings from, besides code. */
export interface SettingsOptions {
  /** Environment variables (default: the process environment). */
  env?: Environment;
  /** JSON config file (default `CHAPKIT_CONFIG_FILE`, else none). */
  file?: string;
  /** Resolves secret references; default resolves `file:` and `vault:` (KV v2, `VAULT_ADDR`, `VAULT_TOKEN`). */
  resolveSecret?: SecretResolver;
}

/** What a reload changed. */
export interface SettingsChange {
  /** Dotted keys whose value changed and took effect. */
  applied: string[];
  /** Dotted keys whose value changed but that only a restart applies. */
  needsRestart: string[];
}

/** A listener told after each reload, with the new settings and what changed. */
export type SettingsListener = (settings: Settings, change: SettingsChange) => void;

/** The config file named by the options or by `CHAPKIT_CONFIG_FILE`. */
function configFilePath(options: SettingsOptions, env: Environment): string | undefined {
  return options.file ?? (env.CHAPKIT_CONFIG_FILE || undefined);
}

async function load(code: SettingsInput, options: SettingsOptions | undefined): Promise<LoadedSettings> {
  if (!options) return loadSettings({ code });
  const env = options.env ?? processEnvironment();
  const path = configFilePath(options, env);
  return loadSettings({
    code,
    env,
    ...(path ? { file: readSettingsFile(path) } : {}),
    resolveSecret: options.resolveSecret ?? deferredSecretResolver(env),
  });
}

/** The standard secret resolver, whose code (Vault, AWS signing) loads with the first secret reference. */
function deferredSecretResolver(env: Environment): SecretResolver {
  let resolver: Promise<(reference: string) => Promise<string>> | undefined;
  return async (reference) => {
    resolver ??= import("../core/settings/secrets.ts").then(({ secretResolver }) => secretResolver({ env }));
    return await (await resolver)(reference);
  };
}

/**
 * A service's settings while it runs: the effective values, where each came
 * from, and {@link ServiceSettings.reload}, which re-reads the config file and
 * the environment and applies what can change live (settings marked `reload`).
 */
export class ServiceSettings {
  #loaded: LoadedSettings;
  readonly #code: SettingsInput;
  readonly #options: SettingsOptions | undefined;
  readonly #listeners: SettingsListener[] = [];

  private constructor(loaded: LoadedSettings, code: SettingsInput, options: SettingsOptions | undefined) {
    this.#loaded = loaded;
    this.#code = code;
    this.#options = options;
  }

  /**
   * Loads settings: schema defaults < `code` < config file < environment. Without
   * `options`, only code and defaults count (a service built for a test or
   * embedded in a host app); with them, the file and the environment too.
   *
   * @throws {ConfigurationError} naming each bad variable or file key and its expected form.
   */
  static async load(code: SettingsInput, options?: SettingsOptions): Promise<ServiceSettings> {
    return new ServiceSettings(await load(code, options), code, options);
  }

  /** The effective settings. */
  get current(): Settings {
    return this.#loaded.settings;
  }

  /** The config file read, if any (watched for changes by a served process). */
  get filePath(): string | undefined {
    if (!this.#options) return undefined;
    return configFilePath(this.#options, this.#options.env ?? processEnvironment());
  }

  /** Per dotted key, where its value came from. */
  get sources(): Readonly<Record<string, SettingSource>> {
    return this.#loaded.sources;
  }

  /** The effective settings as `chapkit config` prints them, secrets masked. */
  render(): string {
    return renderSettings(this.#loaded);
  }

  /** Calls `listener` after each reload that changed a reloadable setting. */
  onReload(listener: SettingsListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Re-reads the config file and the environment. Reloadable settings take
   * effect (listeners are told); others keep their value and are reported
   * in `needsRestart`. A bad value leaves every setting as it was.
   *
   * @throws {ConfigurationError} when the new configuration is invalid.
   */
  async reload(): Promise<SettingsChange> {
    const next = await load(this.#code, this.#options);
    const change: SettingsChange = { applied: [], needsRestart: [] };
    const merged = structuredClone(this.#loaded);
    for (const leaf of settingLeaves()) {
      const before = settingAt(this.#loaded.settings, leaf.path);
      const after = settingAt(next.settings, leaf.path);
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      if (!leaf.reload) {
        change.needsRestart.push(leaf.key);
        continue;
      }
      let node = merged.settings as unknown as Record<string, unknown>;
      for (const part of leaf.path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
      node[leaf.path[leaf.path.length - 1]!] = after;
      merged.sources[leaf.key] = next.sources[leaf.key] ?? "default";
      change.applied.push(leaf.key);
    }
    this.#loaded = merged;
    if (change.applied.length > 0) for (const listener of this.#listeners) listener(this.current, change);
    return change;
  }
}

/**
 * The effective configuration of a service started in this process (config
 * file and environment over the defaults), one line per setting with secrets
 * masked: what `chapkit config` prints.
 *
 * @throws {ConfigurationError} when a value is invalid, naming it.
 */
export async function describeConfiguration(options: SettingsOptions = {}, code: SettingsInput = {}): Promise<string> {
  return (await ServiceSettings.load(code, options)).render();
}
