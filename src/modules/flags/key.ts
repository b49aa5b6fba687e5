// Apart from the module, so the service lifecycle finds the flags without loading them: the module loads on `withFlags()`.

/** The key under which the flags module provides its `FlagManager`. */
export const FLAGS_KEY = "flags";

/** The permission every flag route needs under auth (only `admin`'s `*` or an explicit `flags:*` grant it). */
export const FLAGS_PERMISSION = "flags:admin";
