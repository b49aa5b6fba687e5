/** Starts an example as a real process on a free port and resolves once it says where it listens. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "./stores.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

/** A started example: its process (kill it when done) and its base URL. */
export interface ExampleProcess {
  child: ChildProcess;
  url: string;
}

/**
 * Runs `examples/<file>` with the current runtime, `PORT=0` and a store of
 * its own (the suite's DATABASE_URL names a shared PostgreSQL database), and
 * resolves with the URL of its `Listening on …` line.
 */
export function startExample(file: string): Promise<ExampleProcess> {
  const path = fileURLToPath(new URL(`../../examples/${file}`, import.meta.url).href);
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", path] : [path], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", NO_COLOR: "1", DATABASE_URL: "sqlite::memory:" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Uint8Array): void => {
      output += new TextDecoder().decode(chunk);
      const match = /^Listening on (http:\/\/\S+)$/m.exec(output);
      if (match) resolve({ child, url: match[1]! });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", reject);
    child.on("close", () => reject(new Error(`example exited: ${output}`)));
  });
}
