/** `chapkit dev`: runs the service, restarts it when a file changes, and shows a crash until the next change. */
import { type ChildProcess, spawn } from "node:child_process";
import { watch } from "node:fs";
import process from "node:process";
import { Command, Option } from "commander";
import { runtimeName } from "../../runtime/runtime.ts";
import { paint } from "../_output.ts";
import type { CliContext } from "../context.ts";

interface DevOptions {
  entry: string;
  runtime: "bun" | "deno";
  clear: boolean;
}

const IGNORED = /(^|\/)(node_modules|\.git|dist|\.tmp)(\/|$)|\.(db|db-wal|db-shm|log)$/;

/** The command that runs `entry` on `runtime`; the running runtime's own executable when it is that one. */
function serviceCommand(entry: string, runtime: "bun" | "deno"): string[] {
  const executable = runtimeName() === runtime ? process.execPath : runtime;
  return runtime === "bun" ? [executable, entry] : [executable, "run", "-A", entry];
}

/** `chapkit dev`: runs the service and restarts it when a project file changes. */
export function devCommand(cli: CliContext): Command {
  const current = runtimeName();
  return new Command("dev")
    .description("Run the service and restart it whenever a file in the project changes.")
    .option("-e, --entry <file>", "the service module to run", "main.ts")
    .addOption(new Option("-r, --runtime <runtime>", "the runtime to run it on").choices(["bun", "deno"]).default(current === "deno" ? "deno" : "bun"))
    .option("--no-clear", "do not clear the screen on restart")
    .action((options: DevOptions) => {
      const { output } = cli;
      const command = serviceCommand(options.entry, options.runtime);
      let child: ChildProcess | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopping = false;

      const start = (reason: string): void => {
        if (options.clear && output.interactive) output.err("\x1b[2J\x1b[H");
        output.err(`${paint(output, "dim", `[chapkit dev] ${reason}: ${command.join(" ")}`)}\n`);
        const started = spawn(command[0]!, command.slice(1), { cwd: cli.cwd, stdio: "inherit", env: { ...cli.env } });
        child = started;
        started.on("exit", (code, signal) => {
          if (child !== started || stopping) return;
          child = undefined;
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          const colour = code === 0 ? "dim" : "red";
          output.err(`${paint(output, colour, `[chapkit dev] the service ${how}; waiting for a change to restart`)}\n`);
        });
      };

      const stop = (): Promise<void> =>
        new Promise((resolve) => {
          const running = child;
          child = undefined;
          if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
          const kill = setTimeout(() => running.kill("SIGKILL"), 3000);
          running.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          running.kill("SIGTERM");
        });

      const watcher = watch(cli.cwd, { recursive: true }, (_event, file) => {
        const name = String(file ?? "");
        if (!name || IGNORED.test(name)) return;
        clearTimeout(timer);
        timer = setTimeout(() => void stop().then(() => start(`${name} changed, restarting`)), 100);
      });

      const shutdown = (): void => {
        stopping = true;
        watcher.close();
        clearTimeout(timer);
        void stop().then(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      start("starting");
      // The watcher keeps the command running until SIGINT/SIGTERM.
      return new Promise<void>(() => {});
    });
}
