// The context keys of the jobs module, apart from its code: plugins and other
// modules look the runner up without loading the runner until a service installs it.

/** The key under which the jobs module provides its `JobRunner`. */
export const JOBS_KEY = "jobs";

/** The key under which the jobs module provides its `JobScheduler`. */
export const SCHEDULES_KEY = "schedules";
