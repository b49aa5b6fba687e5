/**
 * A private PostgreSQL server for fault tests and the `faults` bench suite:
 * its own data directory (initdb, as the `postgres` user through `runuser`),
 * its own free port and socket directory, so it can be stopped and started
 * without touching the machine's shared cluster. Commands run asynchronously,
 * so traffic against the server keeps flowing while it stops and starts.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(String(stdout));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
    server.on("error", reject);
  });
}

/** The newest installed PostgreSQL's bin directory, or null. */
export function postgresBin(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "pg_ctl")));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : null;
}

/** Why a private server cannot run here, or null when it can (root, `runuser`, a PostgreSQL install). */
export function privatePostgresUnavailable(): string | null {
  const getuid = (process as { getuid?: () => number }).getuid;
  if (!getuid || getuid() !== 0) return "needs root to run PostgreSQL as the postgres user";
  if (!existsSync("/usr/sbin/runuser") && !existsSync("/sbin/runuser")) return "needs runuser";
  if (!postgresBin()) return "needs PostgreSQL under /usr/lib/postgresql";
  return null;
}

/** A running private server; see the module doc. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Its data directory (owned by the postgres user). */
  readonly dataDir: string;
  /** Stops the server (fast shutdown: sessions are ended, transactions rolled back). */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

function asPostgres(bin: string, tool: string, args: string[]): Promise<string> {
  return run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]);
}

async function postgresDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-pg-"));
  const { uid, gid } = await postgresIds();
  chownSync(dir, uid, gid);
  return dir;
}

/** Creates and starts a private server. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed under /usr/lib/postgresql");
  const dir = await postgresDir();
  const data = join(dir, "data");
  await asPostgres(bin, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  return runPrivate(bin, dir, data);
}

/**
 * Creates and starts a streaming replica of a private server: a
 * `pg_basebackup` of it (with `standby.signal` and its `primary_conninfo`)
 * in a temporary directory, started on a port of its own (hot standby:
 * it answers reads). initdb's default pg_hba trusts local replication
 * connections, so the primary needs no change.
 */
export async function startPrivateReplica(primary: PrivatePostgres): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed under /usr/lib/postgresql");
  const dir = await postgresDir();
  const data = join(dir, "data");
  await asPostgres(bin, "pg_basebackup", ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", data, "-R", "-X", "stream", "--no-sync"]);
  return runPrivate(bin, dir, data);
}

async function runPrivate(bin: string, dir: string, data: string): Promise<PrivatePostgres> {
  const port = await freePort();
  const as = (tool: string, args: string[]): Promise<string> => asPostgres(bin, tool, args);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB`;
  const start = (): Promise<void> =>
    as("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]).then(() => {});
  const stop = (): Promise<void> => as("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).then(() => {});
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: data,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
