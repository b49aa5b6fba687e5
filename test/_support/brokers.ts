/**
 * The real servers of the integration tests: the machine's RabbitMQ (5672),
 * NATS with JetStream (4222) and Mosquitto (1883), started when they are
 * down, and a private Memcached on a free port per test file.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createConnection, createServer } from "node:net";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

/** The brokers' URLs (environment overrides for other machines). */
export const RABBITMQ_URL: string = env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
/** NATS with JetStream. */
export const NATS_URL: string = env.NATS_URL ?? "nats://127.0.0.1:4222";
/** Mosquitto. */
export const MQTT_URL: string = env.MQTT_URL ?? "mqtt://127.0.0.1:1883";

/** A name no other test run uses (queues, streams, topics, vhosts). */
export function runId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Whether something accepts TCP connections on `port`. */
export function listening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function until(port: number, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (await listening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${seconds} s`);
}

/** Starts RabbitMQ (`rabbitmq-server -detached`) when 5672 is closed. */
export async function ensureRabbitMQ(): Promise<void> {
  if (await listening(5672)) return;
  spawnSync("rabbitmq-server", ["-detached"], { stdio: "ignore" });
  await until(5672, 60);
}

/** Starts NATS with JetStream on 4222 when it is closed. */
export async function ensureNats(): Promise<void> {
  if (await listening(4222)) return;
  spawn("nats-server", ["-a", "127.0.0.1", "-p", "4222", "-js"], { stdio: "ignore", detached: true }).unref();
  await until(4222, 20);
}

/** Starts Mosquitto (`mosquitto -d`) when 1883 is closed. */
export async function ensureMosquitto(): Promise<void> {
  if (await listening(1883)) return;
  spawnSync("mosquitto", ["-d"], { stdio: "ignore" });
  await until(1883, 20);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running private server. */
export interface PrivateServer {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Stops it. */
  stop(): Promise<void>;
}

/** A private Memcached (the Debian package) on `port` (default a free one), 64 MB, stopped by `stop()`. */
export async function startMemcached(port?: number): Promise<PrivateServer> {
  port ??= await freePort();
  const root = (globalThis as { process?: { getuid?: () => number } }).process?.getuid?.() === 0;
  const child: ChildProcess = spawn("memcached", ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-m", "64", ...(root ? ["-u", "root"] : [])], {
    stdio: "ignore",
  });
  await until(port, 10);
  return {
    port: port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
