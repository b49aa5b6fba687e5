/** Runs a conformance profile against a running service and collects one outcome per check. */
import { CheckFailed, type CheckContext, CheckSkipped, type ConformanceProfile, type MlFixture } from "./check.ts";
import { ServiceClient } from "./client.ts";
import { detectProfile, findProfile, PROFILES } from "./profiles.ts";

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** A profile name, or `auto` (default) to pick one by probing the service. */
  profile?: string;
  /** Headers sent with every request (authentication). */
  headers?: Record<string, string>;
  /** Data for the full train → predict check. */
  mlData?: MlFixture;
  /** How long to wait for each job (default 30 000 ms). */
  jobTimeoutMs?: number;
  /** Called before each check runs (progress display). */
  onStart?(name: string): void;
  /** Called as each check finishes. */
  onResult?(outcome: CheckOutcome): void;
}

/** How one check went. `message` says why it failed or was skipped. */
export interface CheckOutcome {
  name: string;
  status: "passed" | "failed" | "skipped";
  message?: string;
  ms: number;
}

/** The result of a run: the profile used and every check's outcome. */
export interface ConformanceReport {
  url: string;
  profile: string;
  outcomes: CheckOutcome[];
  passed: number;
  failed: number;
  skipped: number;
}

/** The profile names `--profile` accepts. */
export function profileNames(): string[] {
  return ["auto", ...PROFILES.map((profile) => profile.name)];
}

/**
 * Runs every check of the chosen profile against `url`, in order, and returns
 * the report; it never throws for a failing check. Clean-up registered by checks
 * (deleting what they created) runs at the end, whatever happened.
 */
export async function runConformance(url: string, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const client = new ServiceClient(url, options.headers ? { headers: options.headers } : {});
  // One reachability probe first, so an address that does not answer is one clear error, not every check failing.
  await client.request("GET", "/api/v1/info");
  const requested = options.profile ?? "auto";
  let profile: ConformanceProfile | undefined;
  if (requested === "auto") profile = await detectProfile(client);
  else profile = findProfile(requested);
  if (!profile) throw new CheckFailed(`unknown profile "${requested}" (known: ${profileNames().join(", ")})`);
  const cleanups: (() => Promise<unknown>)[] = [];
  const context: CheckContext = {
    client,
    state: new Map(),
    defer: (cleanup) => void cleanups.push(cleanup),
    jobTimeoutMs: options.jobTimeoutMs ?? 30_000,
    ...(options.mlData ? { mlData: options.mlData } : {}),
  };
  const outcomes: CheckOutcome[] = [];
  try {
    for (const check of profile.checks) {
      options.onStart?.(check.name);
      const started = performance.now();
      let outcome: CheckOutcome;
      try {
        await check.run(context);
        outcome = { name: check.name, status: "passed", ms: performance.now() - started };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const status = error instanceof CheckSkipped ? "skipped" : "failed";
        outcome = { name: check.name, status, message, ms: performance.now() - started };
      }
      outcomes.push(outcome);
      options.onResult?.(outcome);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
  const count = (status: CheckOutcome["status"]): number => outcomes.filter((o) => o.status === status).length;
  return { url, profile: profile.name, outcomes, passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
}
