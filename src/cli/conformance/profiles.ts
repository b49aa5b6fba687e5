/**
 * Every conformance profile `chapkit test --profile` knows. A new profile is a
 * file beside this one exporting a {@link ConformanceProfile} (checks plus a
 * `detect` probe) and one line in {@link PROFILES}; `--profile auto` tries the
 * probes in list order and falls back to `seed`.
 */
import type { ConformanceProfile } from "./check.ts";
import type { ServiceClient } from "./client.ts";
import { chapProfile } from "./chap.ts";
import { seedProfile } from "./seed.ts";

/** The known profiles; more specific ones (with a `detect` probe) come first. */
export const PROFILES: readonly ConformanceProfile[] = [
  chapProfile,
  seedProfile,
];

/** The profile named `name`, or undefined. */
export function findProfile(name: string): ConformanceProfile | undefined {
  return PROFILES.find((profile) => profile.name === name);
}

/** The first profile whose probe recognises the service; `seed` when none does. */
export async function detectProfile(
  client: ServiceClient,
  profiles: readonly ConformanceProfile[] = PROFILES,
): Promise<ConformanceProfile> {
  for (const profile of profiles) {
    if (profile.detect && await profile.detect(client).catch(() => false)) return profile;
  }
  return seedProfile;
}
