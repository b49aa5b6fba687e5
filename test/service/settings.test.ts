import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigurationError } from "../../src/core/errors.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { describeConfiguration, ServiceSettings } from "../../src/service/settings.ts";
import { startService } from "../_support/service-process.ts";
import { serve } from "../../src/runtime/serve.ts";
import { signAwsRequest } from "../../src/core/settings/secrets.ts";

const script = fileURLToPath(new URL("./_settings-server.ts", import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), "chapkit-service-settings-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("service settings", () => {
  it("builds from code and defaults alone unless told to read the environment", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Plain" }, maxBodyBytes: 1234 }).build();
    assert.equal(app.chapkit.context.settings.database.url, "sqlite::memory:");
    assert.equal(app.chapkit.context.settings.http.maxBodyBytes, 1234);
    await app.chapkit.close();
  });

  it("lets the config file and the environment override the code", async () => {
    const file = join(dir, "chapkit.json");
    writeFileSync(file, JSON.stringify({ http: { maxBodyBytes: 2048 }, log: { level: "error" } }));
    const app = await new ServiceBuilder({ info: { display_name: "Layered" }, maxBodyBytes: 1234 })
      .withSettings({ env: { CHAPKIT_CONFIG_FILE: file, DATABASE_URL: `sqlite:${join(dir, "layered.db")}` } })
      .build();
    const { settings } = app.chapkit.context;
    assert.equal(settings.http.maxBodyBytes, 2048);
    assert.equal(settings.log.level, "error");
    assert.equal(settings.database.url, `sqlite:${join(dir, "layered.db")}`);
    await app.chapkit.close();
  });

  it("refuses to build with a bad variable, naming it", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Bad" } }).withSettings({ env: { CHAPKIT_HTTP_MAX_BODY_BYTES: "lots" } }).build(),
      (error: unknown) =>
        error instanceof ConfigurationError && /CHAPKIT_HTTP_MAX_BODY_BYTES="lots": expected an integer of at least 1/.test(error.message),
    );
  });

  it("reloads what can change live and reports what needs a restart", async () => {
    const file = join(dir, "reload.json");
    writeFileSync(file, JSON.stringify({ log: { level: "info" }, server: { port: 1000 } }));
    const settings = await ServiceSettings.load({}, { file, env: {} });
    const seen: string[] = [];
    settings.onReload((current) => seen.push(current.log.level));
    writeFileSync(file, JSON.stringify({ log: { level: "debug" }, server: { port: 2000 } }));
    const change = await settings.reload();
    assert.deepEqual(change, { applied: ["log.level"], needsRestart: ["server.port"] });
    assert.equal(settings.current.log.level, "debug");
    assert.equal(settings.current.server.port, 1000);
    assert.deepEqual(seen, ["debug"]);
  });

  it("keeps every setting when a reload finds a bad value", async () => {
    const file = join(dir, "bad-reload.json");
    writeFileSync(file, JSON.stringify({ log: { level: "warn" } }));
    const settings = await ServiceSettings.load({}, { file, env: {} });
    writeFileSync(file, JSON.stringify({ log: { level: "loud" } }));
    await assert.rejects(settings.reload(), /log\.level in .*="loud": expected one of debug, info, warn, error/);
    assert.equal(settings.current.log.level, "warn");
  });

  it("describes the effective configuration with secrets masked", async () => {
    const text = await describeConfiguration({ env: { DATABASE_URL: "postgres://svc:pa55word@db/app", PORT: "9000" } });
    assert.match(text, /database\.url = "postgres:\/\/svc:\*{8}@db\/app" +# env:DATABASE_URL/);
    assert.match(text, /server\.port = 9000 +# env:PORT/);
    assert.doesNotMatch(text, /pa55word/);
  });

  it("stops a serving process at start-up with one line naming the variable", async () => {
    const service = await startService(script, { PORT: "http", LOG_LEVEL: "info" });
    assert.equal(await service.exited, 78);
    const lines = service.output().trim().split("\n");
    assert.deepEqual(lines, ['chapkit: Invalid configuration: PORT="http": expected an integer from 0 to 65535']);
  });

  it("serves on the environment's log level", async () => {
    const service = await startService(script, { LOG_LEVEL: "debug", CHAPKIT_SERVER_PORT: "0" });
    try {
      await service.waitFor(/probe\.debug_visible/);
      assert.equal((await fetch(`${service.url}/probe`)).status, 200);
    } finally {
      await service.stop();
    }
  });
});

describe("Vault KV v2 secret references", () => {
  it("resolve at start-up against the documented endpoint, and a refusal names the variable", async () => {
    // A local server implementing Vault's KV v2 read: GET /v1/<mount>/data/<path> with X-Vault-Token.
    const vault = await serve((request) => {
      const url = new URL(request.url);
      if (request.headers.get("x-vault-token") !== "s.test-token") return Response.json({ errors: ["permission denied"] }, { status: 403 });
      if (url.pathname !== "/v1/secret/data/chapkit") return Response.json({ errors: [] }, { status: 404 });
      return Response.json({ data: { data: { database_url: "sqlite::memory:", jwt: "v".repeat(40) }, metadata: { version: 3 } } });
    }, { port: 0, hostname: "127.0.0.1" });
    const env = { VAULT_ADDR: `http://127.0.0.1:${vault.port}`, VAULT_TOKEN: "s.test-token", CHAPKIT_JWT_SECRET: "vault:secret/chapkit#jwt" };
    try {
      const settings = await ServiceSettings.load({}, { env });
      assert.equal(settings.current.auth.jwtSecret, "v".repeat(40));
      assert.doesNotMatch(settings.render(), /vvvv/);
      await assert.rejects(
        ServiceSettings.load({}, { env: { ...env, VAULT_TOKEN: "wrong" } }),
        (error: unknown) => error instanceof ConfigurationError && /CHAPKIT_JWT_SECRET: secret reference could not be resolved: Vault answered 403/.test(error.message),
      );
      await assert.rejects(ServiceSettings.load({}, { env: { ...env, CHAPKIT_JWT_SECRET: "vault:secret/chapkit#missing" } }), /has no string field missing/);
    } finally {
      await vault.stop(100);
    }
  });
});

describe("AWS Secrets Manager secret references", () => {
  it("resolve through a signed GetSecretValue call, whole or one JSON field", async () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", service: "secretsmanager" };
    // A local server implementing GetSecretValue: it checks the target, the body and the Signature V4 of each call.
    const aws = await serve(async (request) => {
      const body = await request.text();
      const amzDate = request.headers.get("x-amz-date")!;
      const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      const expected = signAwsRequest(new URL(request.url), body, {
        "content-type": request.headers.get("content-type")!,
        "x-amz-target": request.headers.get("x-amz-target")!,
      }, credentials, date);
      if (request.headers.get("authorization") !== expected.authorization) return Response.json({ __type: "InvalidSignatureException" }, { status: 400 });
      if (request.headers.get("x-amz-target") !== "secretsmanager.GetSecretValue") return new Response(null, { status: 400 });
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      if (SecretId === "chapkit/jwt") return Response.json({ Name: SecretId, SecretString: "a".repeat(40) });
      if (SecretId === "chapkit/admin") return Response.json({ Name: SecretId, SecretString: JSON.stringify({ password: "from-aws-secret" }) });
      return Response.json({ __type: "ResourceNotFoundException" }, { status: 400 });
    }, { port: 0, hostname: "127.0.0.1" });
    const env = {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${aws.port}/`,
      CHAPKIT_JWT_SECRET: "aws-sm:chapkit/jwt",
      CHAPKIT_ADMIN_PASSWORD: "aws-sm:chapkit/admin#password",
    };
    try {
      const settings = await ServiceSettings.load({}, { env });
      assert.equal(settings.current.auth.jwtSecret, "a".repeat(40));
      assert.equal(settings.current.auth.adminPassword, "from-aws-secret");
      await assert.rejects(
        ServiceSettings.load({}, { env: { ...env, AWS_SECRET_ACCESS_KEY: "wrong" } }),
        /CHAPKIT_JWT_SECRET: secret reference could not be resolved: AWS Secrets Manager answered 400/,
      );
    } finally {
      await aws.stop(100);
    }
  });
});
