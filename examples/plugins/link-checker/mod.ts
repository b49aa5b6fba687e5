/**
 * link-checker: a plugin in the shape a third party would publish. It adds a
 * `links` collection, a job that checks every link and records its HTTP
 * status, a cron schedule for that job, a report route and a typed
 * configuration. It imports only the public `chapkit` entry, TypeBox and
 * Elysia, as a package of its own would.
 *
 * ```ts ignore
 * import { linkChecker } from "./examples/plugins/link-checker/mod.ts";
 * await new ServiceBuilder({ info }).withJobs().withPlugin(linkChecker({ cron: "*\/5 * * * *" })).listen();
 * ```
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { type ChapkitPlugin, defineEntity, definePlugin, entityManagerOf, type JobHandlerContext, pluginConfig, type ServiceContext } from "chapkit";

/** One watched link: its URL and what the last check found. */
export const Link = defineEntity({
  table: "links",
  name: "Link",
  fields: {
    url: Type.String({ format: "uri", pattern: "^https?://" }),
    status: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    checked_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
});

/** The plugin's settings. */
export const LinkCheckerConfig = Type.Object({
  /** When the check runs (croner syntax); an empty string schedules nothing. */
  cron: Type.String({ default: "0 * * * *" }),
  /** Milliseconds one link may take before it counts as down. */
  timeoutMs: Type.Integer({ minimum: 100, default: 5_000 }),
});

/** The job that checks every link. */
export const CHECK_JOB = "link-checker.check";

/** The link-checker plugin with the given settings (see {@link LinkCheckerConfig}). */
export function linkChecker(settings: { cron?: string; timeoutMs?: number } = {}): ChapkitPlugin<typeof LinkCheckerConfig> {
  const plugin: ChapkitPlugin<typeof LinkCheckerConfig> = definePlugin({
    name: "link-checker",
    entities: [Link],
    config: { schema: LinkCheckerConfig, value: settings },
    jobs: (context: ServiceContext) => ({
      [CHECK_JOB]: {
        payload: Type.Object({}),
        run: async (_payload: unknown, job: JobHandlerContext) => {
          const { timeoutMs } = pluginConfig(context, plugin);
          const links = entityManagerOf(context, Link);
          const all = await links.list();
          let done = 0;
          for (const link of all) {
            const result = await check(link.url, AbortSignal.any([job.signal, AbortSignal.timeout(timeoutMs)]));
            await links.update(link.id, { ...link, ...result, checked_at: new Date().toISOString() });
            await job.progress(++done / all.length);
          }
          return { checked: all.length };
        },
      },
    }),
    ...(settings.cron === "" ? {} : { schedules: { "link-checker.hourly": { cron: settings.cron ?? "0 * * * *", job: CHECK_JOB } } }),
    routes: (context: ServiceContext) =>
      new Elysia().get("/api/v1/links/$report", async () => {
        const all = await entityManagerOf(context, Link).list();
        const up = all.filter((link) => typeof link.status === "number" && link.status < 400).length;
        const unchecked = all.filter((link) => link.checked_at == null).length;
        return { total: all.length, up, down: all.length - up - unchecked, unchecked };
      }, { detail: { tags: ["links"], summary: "How many links answered, failed or were never checked" } }),
  });
  return plugin;
}

async function check(url: string, signal: AbortSignal): Promise<{ status: number | null; error: string | null }> {
  try {
    const response = await fetch(url, { method: "HEAD", signal, redirect: "manual" });
    await response.body?.cancel();
    return { status: response.status, error: null };
  } catch (error) {
    return { status: null, error: error instanceof Error ? error.message : String(error) };
  }
}
