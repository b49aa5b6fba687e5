import { arch, hostname as osHostname, release, type } from "node:os";

/** The JavaScript runtime a service runs on. */
export type RuntimeName = "bun" | "deno" | "node";

interface RuntimeGlobals {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
  process?: { versions?: { node?: string } };
}

const globals = globalThis as unknown as RuntimeGlobals;

/** The name of the current runtime: `bun`, `deno` or `node`. */
export function runtimeName(): RuntimeName {
  if (globals.Bun) return "bun";
  if (globals.Deno) return "deno";
  return "node";
}

/** The current runtime's version, e.g. `1.4.5` (Bun) or `2.9.6` (Deno). */
export function runtimeVersion(): string {
  if (globals.Bun) return globals.Bun.version;
  if (globals.Deno) return globals.Deno.version.deno;
  return globals.process?.versions?.node ?? "unknown";
}

/** The runtimes a chapkit service runs on, as the README and package.json `engines` state them. */
export const SERVICE_RUNTIMES = "Bun (>= 1.4) or Deno (>= 2.9)";

/**
 * Why a service cannot start on this runtime, or undefined where it can.
 * Node.js installs the package and runs the `chapkit` command, but has
 * neither `Bun.serve`/`Deno.serve` nor, before 22.5, `node:sqlite`, so a
 * service there would otherwise die on a module error.
 */
export function unsupportedRuntime(): string | undefined {
  if (globals.Bun || globals.Deno) return undefined;
  return `a chapkit service runs on ${SERVICE_RUNTIMES}, not on Node.js ${runtimeVersion()}: ` +
    "start this file with `bun <file>` or `deno run -A <file>` (Node.js only installs the package and runs the chapkit command)";
}

/** The operating-system platform string, e.g. `Linux-6.8.0-x64`. */
export function platformName(): string {
  return `${type()}-${release()}-${arch()}`;
}

/** The machine's host name. */
export function hostName(): string {
  return osHostname();
}

/** The abbreviation of the local time zone (`UTC`, `CEST`, or `GMT+2` where none exists). */
export function timeZoneName(date: Date = new Date()): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(date)
    .find((item) => item.type === "timeZoneName");
  return part?.value ?? "UTC";
}
