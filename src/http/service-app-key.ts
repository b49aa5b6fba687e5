// Apart from the batch module, which loads only when a service installs it.

/** The service-context key under which the builder provides the assembled app (for in-process dispatch). */
export const SERVICE_APP_KEY = "service.app";
