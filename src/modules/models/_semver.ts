/** A parsed semantic version (`major.minor.patch[-prerelease]`; build metadata is not allowed). */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const SEMVER = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** The parsed version, or null when `text` is not `major.minor.patch[-prerelease]`. */
export function parseSemver(text: string): SemVer | null {
  const match = SEMVER.exec(text);
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: match[4] ?? "" };
}

/** Orders versions by precedence (a prerelease comes before its release). */
export function compareSemver(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === "") return 1;
  if (b.prerelease === "") return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

/** The next version after `latest`: a minor bump (`1.2.3` → `1.3.0`), `1.0.0` for the first. */
export function nextSemver(latest: SemVer | null): string {
  return latest ? `${latest.major}.${latest.minor + 1}.0` : "1.0.0";
}
