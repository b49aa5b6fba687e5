/**
 * Self-registration with chap-core (contract-chapcore §10): once the service
 * answers its own `/health`, it registers `{id, url, info}` with the
 * orchestrator, pings the `ping_url` it got back every `keepaliveMs`,
 * registers again after a 404 ping, and deregisters on shutdown. It runs
 * beside the server, so chap-core's callbacks (`$schema`, config list,
 * probe config) are served while the register request is in flight.
 *
 * @module
 */
import { hostname } from "node:os";
import type { Logger } from "../core/logging.ts";
import { OutboundPolicy, type OutboundPolicyOptions } from "../core/resilient-fetch.ts";
import type { Settings } from "../core/settings/schema.ts";

/** What {@link startRegistration} needs. */
export interface RegistrationOptions {
  /** The `registration` settings; nothing happens without `orchestratorUrl`. */
  settings: Settings["registration"];
  /** The `/api/v1/info` body sent as `info` (its `id` names the service). */
  info: Record<string, unknown>;
  /** The port the service listens on (used when `settings.port` is unset). */
  listenPort: number;
  /** The health path polled before registering (default `/health`). */
  healthPath?: string;
  /** Where progress and failures are logged. */
  logger: Logger;
  /** The outbound policy options (timeouts, breaker); retries are this module's own. */
  outbound?: OutboundPolicyOptions;
}

/** A running registration. */
export interface Registration {
  /** Resolves once the first registration attempt cycle has ended (registered or given up). */
  readonly registered: Promise<boolean>;
  /** Stops keepalive pings and deregisters (failures are logged only). */
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The deregistration URL: the register URL without its `/$register` segment, then `/{id}`. */
export function deregisterUrl(orchestratorUrl: string, id: string): string {
  return `${orchestratorUrl.replace(/\/\$register\/?$/, "")}/${encodeURIComponent(id)}`;
}

/**
 * Starts registering in the background and returns at once. A no-op (that
 * resolves `registered` to false) without `settings.orchestratorUrl`.
 */
export function startRegistration(options: RegistrationOptions): Registration {
  const { settings, logger } = options;
  const orchestrator = settings.orchestratorUrl;
  if (!orchestrator) return { registered: Promise.resolve(false), stop: () => Promise.resolve() };
  const id = String(options.info.id);
  const port = settings.port ?? options.listenPort;
  const url = `http://${settings.host ?? hostname()}:${port}`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (settings.key) headers["x-service-key"] = settings.key;
  const policy = new OutboundPolicy({ ...options.outbound, retries: 0 });
  const stopping = new AbortController();
  let pingUrl: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const ready = async (): Promise<boolean> => {
    const deadline = Date.now() + settings.readinessTimeoutMs;
    const health = `http://127.0.0.1:${options.listenPort}${options.healthPath ?? "/health"}`;
    for (;;) {
      try {
        const response = await fetch(health, { signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(2000)]) });
        await response.body?.cancel();
        if (response.status === 200) return true;
      } catch {
        // Not serving yet.
      }
      if (stopping.signal.aborted || Date.now() >= deadline) return false;
      await sleep(500, stopping.signal);
    }
  };

  const register = async (): Promise<boolean> => {
    for (let attempt = 1; attempt <= settings.attempts && !stopping.signal.aborted; attempt++) {
      try {
        const response = await policy.fetch(orchestrator, {
          method: "POST",
          headers,
          body: JSON.stringify({ id, url, info: options.info }),
          signal: stopping.signal,
        });
        const text = await response.text();
        if (response.ok) {
          const body = JSON.parse(text) as { ping_url?: unknown };
          pingUrl = typeof body.ping_url === "string" ? body.ping_url : undefined;
          logger.info("registration.registered", { orchestrator, id, url, ping_url: pingUrl });
          return true;
        }
        logger.warn("registration.refused", { orchestrator, attempt, status: response.status, body: text.slice(0, 300) });
      } catch (error) {
        if (stopping.signal.aborted) return false;
        logger.warn("registration.failed", { orchestrator, attempt, error: messageOf(error) });
      }
      if (attempt < settings.attempts) await sleep(settings.retryDelayMs, stopping.signal);
    }
    logger.error("registration.gave_up", { orchestrator, attempts: settings.attempts });
    return false;
  };

  const ping = async (): Promise<void> => {
    if (!pingUrl) return;
    try {
      const response = await policy.fetch(pingUrl, { method: "PUT", headers, signal: stopping.signal });
      await response.body?.cancel();
      if (response.status === 404) {
        logger.warn("registration.expired", { ping_url: pingUrl });
        await sleep(settings.reRegisterGraceMs, stopping.signal);
        if (!stopping.signal.aborted) await register();
      } else if (!response.ok) {
        logger.warn("registration.ping_failed", { ping_url: pingUrl, status: response.status });
      }
    } catch (error) {
      if (!stopping.signal.aborted) logger.warn("registration.ping_failed", { ping_url: pingUrl, error: messageOf(error) });
    }
  };

  const keepalive = (): void => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      void ping().finally(keepalive);
    }, settings.keepaliveMs);
  };

  const registered = (async () => {
    if (!(await ready())) {
      if (!stopping.signal.aborted) logger.error("registration.skipped", { reason: "the service's own health did not answer 200 in time" });
      return false;
    }
    const ok = await register();
    keepalive();
    return ok;
  })();

  return {
    registered,
    async stop(): Promise<void> {
      stopping.abort();
      if (timer !== undefined) clearTimeout(timer);
      await registered.catch(() => false);
      if (!pingUrl) return;
      try {
        const response = await new OutboundPolicy({ ...options.outbound, retries: 0, breaker: false }).fetch(
          deregisterUrl(orchestrator, id),
          { method: "DELETE", headers },
        );
        await response.body?.cancel();
        logger.info("registration.deregistered", { id, status: response.status });
      } catch (error) {
        logger.warn("registration.deregister_failed", { id, error: messageOf(error) });
      }
    },
  };
}
