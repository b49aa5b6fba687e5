import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigurationError } from "../../../src/core/errors.ts";
import { loadSettings, readSettingsFile } from "../../../src/core/settings/load.ts";
import { maskedSettings, renderSettings } from "../../../src/core/settings/render.ts";
import { resolveFileSecret } from "../../../src/core/settings/secrets.ts";

const dir = mkdtempSync(join(tmpdir(), "chapkit-settings-"));

function file(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === "string" ? data : JSON.stringify(data));
  return path;
}

async function failure(promise: Promise<unknown>): Promise<ConfigurationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    return error;
  }
  assert.fail("expected a ConfigurationError");
}

describe("settings", () => {
  it("gives the schema defaults when nothing else is set", async () => {
    const { settings, sources } = await loadSettings();
    assert.equal(settings.server.port, 8000);
    assert.equal(settings.database.url, "sqlite::memory:");
    assert.equal(settings.log.level, "info");
    assert.deepEqual(settings.auth.apiKeys, []);
    assert.equal(settings.auth.jwtSecret, undefined);
    assert.equal(sources["server.port"], "default");
    assert.deepEqual(settings.monitoring, {}, "a group of unset optional settings is still an object");
  });

  it("layers code < config file < environment", async () => {
    const path = file("layers.json", { server: { port: 9001, host: "127.0.0.1" }, log: { level: "warn" } });
    const { settings, sources } = await loadSettings({
      code: { server: { port: 9000, graceMs: 5 }, log: { level: "debug", format: "json" } },
      file: readSettingsFile(path),
      env: { PORT: "9002" },
    });
    assert.equal(settings.server.port, 9002);
    assert.equal(sources["server.port"], "env:PORT");
    assert.equal(settings.server.host, "127.0.0.1");
    assert.equal(sources["server.host"], "file");
    assert.equal(settings.log.level, "warn");
    assert.equal(settings.log.format, "json");
    assert.equal(settings.server.graceMs, 5);
    assert.equal(sources["server.graceMs"], "code");
  });

  it("prefers the derived CHAPKIT_ name over the standard one", async () => {
    const { settings, sources } = await loadSettings({ env: { PORT: "1", CHAPKIT_SERVER_PORT: "2" } });
    assert.equal(settings.server.port, 2);
    assert.equal(sources["server.port"], "env:CHAPKIT_SERVER_PORT");
  });

  it("parses booleans, lists and choices from the environment", async () => {
    const { settings } = await loadSettings({
      env: { CHAPKIT_API_KEYS: " a-key , b-key ,, ", LOG_LEVEL: "WARNING", LOG_FORMAT: "JSON" },
    });
    assert.deepEqual(settings.auth.apiKeys, ["a-key", "b-key"]);
    assert.equal(settings.log.level, "warn");
    assert.equal(settings.log.format, "json");
  });

  it("stops with one message naming the variable and the expected form", async () => {
    const error = await failure(loadSettings({ env: { PORT: "eighty", LOG_LEVEL: "verbose" } }));
    assert.match(error.message, /PORT="eighty": expected an integer from 0 to 65535/);
    assert.match(error.message, /LOG_LEVEL="verbose": expected one of debug, info, warn, error/);
    assert.equal(error.status, 500);
  });

  it("never shows a secret's value in the message", async () => {
    const error = await failure(loadSettings({ env: { CHAPKIT_JWT_SECRET: "short-secret" } }));
    assert.match(error.message, /CHAPKIT_JWT_SECRET=\(secret\): expected a string of at least 32 characters/);
    assert.doesNotMatch(error.message, /short-secret/);
  });

  it("names the file key of a bad or unknown setting", async () => {
    const path = file("bad.json", { server: { port: -1, prot: 1 }, logs: {} });
    const error = await failure(loadSettings({ file: readSettingsFile(path) }));
    assert.match(error.message, new RegExp(`server.port in ${path}=-1: expected an integer from 0 to 65535`));
    assert.match(error.message, /server\.prot in .*: no such setting/);
    assert.match(error.message, /logs in .*: no such setting/);
  });

  it("refuses a config file that is not JSON", () => {
    const path = file("broken.json", "{ port: 1");
    assert.throws(() => readSettingsFile(path), (error: unknown) => error instanceof ConfigurationError && /not valid JSON/.test(error.message));
    assert.throws(() => readSettingsFile(join(dir, "missing.json")), /cannot be read/);
  });

  it("resolves file: secret references", async () => {
    const secret = file("jwt", "0123456789abcdef0123456789abcdef\n");
    const { settings } = await loadSettings({ env: { CHAPKIT_JWT_SECRET: `file:${secret}` }, resolveSecret: resolveFileSecret });
    assert.equal(settings.auth.jwtSecret, "0123456789abcdef0123456789abcdef");
    const error = await failure(
      loadSettings({ env: { CHAPKIT_JWT_SECRET: `file:${join(dir, "nope")}` }, resolveSecret: resolveFileSecret }),
    );
    assert.match(error.message, /CHAPKIT_JWT_SECRET: secret reference could not be resolved/);
  });

  it("masks secrets when shown", async () => {
    const loaded = await loadSettings({
      env: { DATABASE_URL: "postgres://app:hunter2@db:5432/main", CHAPKIT_API_KEYS: "k1,k2", CHAPKIT_JWT_SECRET: "x".repeat(40) },
    });
    const masked = maskedSettings(loaded.settings) as { database: { url: string }; auth: { apiKeys: string[]; jwtSecret: string } };
    assert.equal(masked.database.url, "postgres://app:********@db:5432/main");
    assert.deepEqual(masked.auth.apiKeys, ["********", "********"]);
    assert.equal(masked.auth.jwtSecret, "********");
    const text = renderSettings(loaded);
    assert.doesNotMatch(text, /hunter2|k1|xxxx/);
    assert.match(text, /server\.port = 8000 +# default; env CHAPKIT_SERVER_PORT, PORT; restart/);
    assert.match(text, /log\.level = "info" +# default; env CHAPKIT_LOG_LEVEL, LOG_LEVEL; reloadable/);
  });
});
