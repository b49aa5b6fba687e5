/** Where a service with `withVersions()` provides its compiled API versions (a `Versioning`). */
export const VERSIONING_KEY = "http:versioning";
