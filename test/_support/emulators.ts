/**
 * Real S3-protocol and Azure Blob servers for the storage tests: s3rver and
 * Azurite (npm devDependencies), each started under Node.js on a free port
 * with its data in memory or a temporary directory, stopped by `stop()`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Stops the process and removes its data. */
  stop(): Promise<void>;
}

const ROOT = new URL("../../", import.meta.url).pathname;

function start(args: string[], pattern: RegExp, dir: string): Promise<Emulator> {
  const child: ChildProcess = spawn("node", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`emulator did not start within 30 s: ${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners("data");
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({
        origin: `http://127.0.0.1:${match[1]}`,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }).then(() => rmSync(dir, { recursive: true, force: true })),
      });
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => fail(new Error(`emulator exited with ${code}: ${output}`)));
  });
}

/** s3rver with bucket `test` (credentials `S3RVER`/`S3RVER`; virtual-host style on `test.localhost`). */
export function startS3rver(): Promise<Emulator> {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-s3-"));
  return start(
    ["node_modules/s3rver/bin/s3rver.js", "-d", dir, "-a", "127.0.0.1", "-p", "0", "--service-endpoint", "localhost", "--configure-bucket", "test", "--silent"],
    /listening on 127\.0\.0\.1:(\d+)/,
    dir,
  );
}

/** Azurite's blob service in memory (account `devstoreaccount1` with its well-known key). */
export function startAzurite(): Promise<Emulator> {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-azurite-"));
  return start(
    ["node_modules/azurite/dist/src/blob/main.js", "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    /listens on http:\/\/127\.0\.0\.1:(\d+)/,
    dir,
  );
}

/** Azurite's well-known account key. */
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
