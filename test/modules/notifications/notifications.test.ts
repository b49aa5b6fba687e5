/**
 * `withNotifications()` end to end: a real SMTP server process (the
 * `smtp-server` package) receives e-mail, a local HTTP server plays a Slack
 * webhook, a generic webhook and an SMS provider. A failed job, an alert from
 * the health thresholds and a promoted model each notify the channels their
 * rule names, rendered from templates; sends are jobs, retried until accepted.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, it } from "node:test";
import { Elysia } from "elysia";
import { Type } from "@sinclair/typebox";
import { emailChannel } from "../../../src/integrations/notifications/email.ts";
import { slackChannel } from "../../../src/integrations/notifications/slack.ts";
import { smsChannel } from "../../../src/integrations/notifications/sms.ts";
import { webhookChannel } from "../../../src/integrations/notifications/webhook.ts";
import { smtpMailer } from "../../../src/integrations/smtp-mailer.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { MODELS_KEY, modelsModule } from "../../../src/modules/models/mod.ts";
import type { ModelRegistry } from "../../../src/modules/models/registry.ts";
import { THRESHOLDS_KEY } from "../../../src/modules/monitoring/mod.ts";
import { NOTIFICATIONS_KEY, renderTemplate } from "../../../src/modules/notifications/mod.ts";
import type { Notifier } from "../../../src/modules/notifications/notifier.ts";
import type { ThresholdMonitor } from "../../../src/observability/thresholds.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { bunExecutable, type ServiceProcess, startService } from "../../_support/service-process.ts";
import { sqliteFileStore } from "../../_support/stores.ts";

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

interface Post {
  path: string;
  headers: Headers;
  body: string;
}

const unquote = (text: string): string =>
  text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("notifications", () => {
  const store = sqliteFileStore();
  let smtp: ServiceProcess;
  let receiver: RunningServer;
  let app: ServiceApp;
  const posts: Post[] = [];
  const answers = new Map<string, number[]>();

  const mails = (): Mail[] =>
    [...smtp.output().matchAll(/MAIL ([A-Za-z0-9+/=]+)\n/g)].map((match) => JSON.parse(Buffer.from(match[1]!, "base64").toString("utf8")) as Mail);
  const postsTo = (path: string) => posts.filter((post) => post.path === path);
  const script = new URL("../auth/_smtp-server.ts", import.meta.url).pathname;

  before(async () => {
    smtp = await startService(script, {}, { executable: bunExecutable(), command: [script] });
    assert.ok(smtp.port, smtp.output());
    receiver = await serve(async (request) => {
      const path = new URL(request.url).pathname;
      posts.push({ path, headers: request.headers, body: await request.text() });
      return new Response("ok", { status: answers.get(path)?.shift() ?? 200 });
    }, { port: 0 });
    const base = `http://127.0.0.1:${receiver.port}`;
    const mailer = smtpMailer({ host: "127.0.0.1", port: smtp.port, from: "Lab <alerts@lab.test>" });
    app = await new ServiceBuilder({ info: { display_name: "Malaria lab" } })
      .withSettings({ env: {} })
      .withDatabase(store.url())
      .withHealth()
      .withMonitoring({
        seriesSlotMs: 100,
        evaluationIntervalMs: 3_600_000,
        thresholds: { errorRatio: { degraded: 0.2, unhealthy: 0.5 }, windowSeconds: 30, minRequests: 4 },
      })
      .withJobs({
        queuePollMs: 20,
        handlers: {
          train: {
            payload: Type.Object({ dataset: Type.String() }),
            run: () => {
              throw new Error("dataset is empty");
            },
          },
        },
      })
      .module(modelsModule({ canaryIntervalMs: 0 }))
      .withNotifications({
        channels: {
          ops: emailChannel({ mailer, to: ["ops@lab.test", "lead@lab.test"] }),
          chat: slackChannel({ url: `${base}/slack`, username: "chapkit" }),
          hook: webhookChannel({ url: `${base}/hook`, headers: { authorization: "Bearer t0ken" } }),
          sms: smsChannel({ url: `${base}/sms`, format: "form", fields: { to: "To", text: "Body" }, extra: { From: "+15005550006" }, to: ["+4712345678"] }),
        },
        rules: [
          { name: "failures", types: ["job.failed"], filter: 'name = "train"', channels: ["ops", "chat"] },
          { name: "alerts", types: ["alert.*"], channels: ["sms", "hook"] },
          {
            name: "promotions",
            types: ["model.promoted"],
            channels: ["ops"],
            template: {
              subject: "{{ entity.name }} {{ entity.alias }} -> {{ entity.to_version }}",
              text: "Promoted by {{ entity.actor }}.",
              html: "<p>{{ entity.name }} now serves {{ entity.to_version }}, promoted by {{ entity.actor }}</p>",
            },
          },
        ],
        maxAttempts: 100,
        backoff: { delay_ms: 20, factor: 1, jitter: false },
      })
      .use(new Elysia().get("/boom", () => {
        throw new Error("boom");
      }))
      .build();
  });

  after(async () => {
    await app?.chapkit.close();
    await receiver?.stop(100);
    await smtp?.stop();
    await store.cleanup();
  });

  it("e-mails and posts to chat when a job fails, from the built-in template", async () => {
    const jobs = app.chapkit.context.get<JobRunner>("jobs");
    const { record } = await jobs.enqueue("train", { dataset: "empty.csv" });
    const mail = (await until(mails, (list) => list.length >= 1))[0]!;
    assert.deepEqual(mail.to.sort(), ["lead@lab.test", "ops@lab.test"]);
    assert.equal(mail.from, "alerts@lab.test");
    assert.match(mail.raw, /Subject: \[Malaria lab\] Job train failed/);
    assert.match(unquote(mail.raw), new RegExp(`Job ${record.id} \\(train\\) failed after 1 attempt\\(s\\)`));
    assert.match(unquote(mail.raw), /Error: Error: dataset is empty/);
    const [chat] = await until(() => postsTo("/slack"), (list) => list.length >= 1);
    const body = JSON.parse(chat!.body) as { text: string; username: string };
    assert.match(body.text, /^\*\[Malaria lab\] Job train failed\*\n/);
    assert.equal(body.username, "chapkit");
  });

  it("sends an SMS and a webhook when a health threshold fires", async () => {
    for (let i = 0; i < 8; i++) await app.handle(new Request("http://local/boom"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const thresholds = app.chapkit.context.get<ThresholdMonitor>(THRESHOLDS_KEY);
    await thresholds.evaluate();
    assert.equal(thresholds.result("error_ratio")?.state, "unhealthy");
    const [sms] = await until(() => postsTo("/sms"), (list) => list.length >= 1);
    assert.equal(sms!.headers.get("content-type"), "application/x-www-form-urlencoded");
    const form = new URLSearchParams(sms!.body);
    assert.equal(form.get("To"), "+4712345678");
    assert.equal(form.get("From"), "+15005550006");
    assert.match(form.get("Body")!, /^\[Malaria lab\] Alert: error_ratio is unhealthy\n/);
    const [hook] = await until(() => postsTo("/hook"), (list) => list.length >= 1);
    const payload = JSON.parse(hook!.body) as { subject: string; event: { id: string; type: string; data: { collection: string } } };
    assert.equal(payload.event.type, "alert.fired");
    assert.equal(payload.event.data.collection, "alerts");
    assert.equal(hook!.headers.get("idempotency-key"), payload.event.id);
    assert.equal(hook!.headers.get("authorization"), "Bearer t0ken");
  });

  it("mails a model promotion from the rule's own template, escaping values in HTML", async () => {
    const before = mails().length;
    const registry = app.chapkit.context.get<ModelRegistry>(MODELS_KEY);
    await registry.register("malaria", {});
    await registry.register("malaria", {});
    await registry.moveAlias("malaria", "production", "1.1.0", { actor: "<ada>" });
    const mail = (await until(mails, (list) => list.length > before))[before]!;
    assert.match(mail.raw, /Subject: malaria production -> 1\.1\.0/);
    assert.match(unquote(mail.raw), /Promoted by <ada>\./, "text is not escaped");
    assert.match(unquote(mail.raw), /<p>malaria now serves 1\.1\.0, promoted by &lt;ada&gt;<\/p>/);
  });

  it("retries a send the receiver refuses until it accepts, with the same idempotency key", async () => {
    posts.length = 0;
    answers.set("/hook", [500, 503]);
    const notifier = app.chapkit.context.get<Notifier>(NOTIFICATIONS_KEY);
    const event = { id: "01K79YAHJ7BR4E87VVTG8FNBMB", type: "alert.fired" as const, timestamp: new Date().toISOString(), data: { collection: "alerts", id: "x", entity: {} } };
    const [jobId] = await notifier.notify(["hook"], { subject: "Disk almost full", text: "92 % used", event });
    const job = await app.chapkit.context.get<JobRunner>("jobs").wait(jobId!, 10_000);
    assert.equal(job.status, "completed");
    assert.equal(job.attempts, 3);
    const tries = postsTo("/hook");
    assert.equal(tries.length, 3);
    assert.deepEqual(tries.map((post) => post.headers.get("idempotency-key")), [event.id, event.id, event.id]);
  });

  it("retries an e-mail while the SMTP server is down and sends it once it is back", async () => {
    const port = smtp.port;
    await smtp.stop();
    const jobs = app.chapkit.context.get<JobRunner>("jobs");
    const [jobId] = await app.chapkit.context.get<Notifier>(NOTIFICATIONS_KEY).notify(["ops"], { subject: "Sent after the outage", text: "queued" });
    await until(() => jobs.get(jobId!), (job) => (job.attempts ?? 0) >= 2);
    smtp = await startService(script, { SMTP_PORT: String(port) }, { executable: bunExecutable(), command: [script] });
    const job = await until(() => jobs.get(jobId!), (record) => record.status !== "pending" && record.status !== "running");
    assert.equal(job.status, "completed");
    const [mail] = await until(mails, (list) => list.length >= 1);
    assert.match(mail!.raw, /Subject: Sent after the outage/);
  });

  it("refuses a rule that names an unknown channel, and notify() to one", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Broken" } })
        .withJobs()
        .withNotifications({ channels: {}, rules: [{ name: "r", types: ["job.failed"], channels: ["pager"] }] })
        .build(),
      /Notification rule "r" names the unknown channel "pager"/,
    );
    await assert.rejects(app.chapkit.context.get<Notifier>(NOTIFICATIONS_KEY).notify(["pager"], { subject: "s", text: "t" }), /Unknown notification channel "pager"/);
  });
});

describe("notification templates", () => {
  it("fill placeholders by path, leave missing values empty and show objects as JSON", () => {
    const context = { event: { type: "job.failed" }, entity: { name: "train", params: { lr: 0.1 }, none: null } };
    assert.equal(renderTemplate("{{event.type}} {{ entity.name }}/{{ entity.missing }}/{{ entity.none }} {{ entity.params }}", context), 'job.failed train// {"lr":0.1}');
  });

  it("escape every value in HTML", () => {
    assert.equal(renderTemplate("<b>{{ x }}</b>", { x: `<script>"&'` }, { html: true }), "<b>&lt;script&gt;&quot;&amp;&#39;</b>");
  });
});
