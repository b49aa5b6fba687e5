/** `chapkit test --url URL`: the conformance smoke test of a running service, with an exit status for CI. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { elapsed, paint, spinner } from "../_output.ts";
import type { MlFixture } from "../conformance/check.ts";
import { profileNames, runConformance } from "../conformance/run.ts";
import { type CliContext, CliExit } from "../context.ts";
import { parseHeaders, type ServiceOptions, serviceOptions } from "../_http.ts";

interface TestOptions extends ServiceOptions {
  profile: string;
  mlData?: string;
  jobTimeout: string;
  json?: boolean;
}

/** `chapkit test`: checks a running service against the chapkit contract; exit status 1 on any deviation. */
export function testCommand(cli: CliContext): Command {
  return serviceOptions(
    new Command("test").description("Check that a running service answers the chapkit contract; exits 1 on any deviation."),
  )
    .addOption(new Option("-p, --profile <profile>", "which checks to run (auto picks by probing the service)").choices(profileNames()).default("auto"))
    .option("--ml-data <file>", "JSON file {config?, train, predict, historic?} for a full train → predict round trip")
    .option("--job-timeout <ms>", "how long to wait for each job", "30000")
    .option("--json", "print the report as JSON on stdout")
    .addHelpText("after", "\nExample:\n  chapkit test --url http://127.0.0.1:8000 --ml-data ml-data.json\n")
    .action(async (options: TestOptions) => {
      const { output } = cli;
      const mlData = options.mlData
        ? JSON.parse(readFileSync(resolve(cli.cwd, options.mlData), "utf8")) as MlFixture
        : undefined;
      const started = performance.now();
      const progress = options.json ? undefined : spinner(output, `checking ${options.url}`);
      const report = await runConformance(options.url, {
        profile: options.profile,
        headers: parseHeaders(options.header),
        jobTimeoutMs: Number(options.jobTimeout),
        ...(mlData ? { mlData } : {}),
        onStart: (name) => progress?.update(name),
        onResult: (outcome) => {
          if (!progress) return;
          const mark = outcome.status === "passed"
            ? paint(output, "green", "✓")
            : outcome.status === "failed"
            ? paint(output, "red", "✗")
            : paint(output, "dim", "-");
          const detail = outcome.message ? `\n    ${paint(output, outcome.status === "failed" ? "red" : "dim", outcome.message)}` : "";
          progress.clear();
          output.out(`${mark} ${outcome.name} ${paint(output, "dim", `(${Math.round(outcome.ms)} ms)`)}${detail}\n`);
        },
      });
      progress?.stop();
      if (options.json) {
        output.out(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        output.out(
          `\nprofile ${report.profile}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped ` +
            `in ${elapsed(started)}\n`,
        );
      }
      if (report.failed > 0) throw new CliExit(1);
    });
}
