/**
 * A real-time dashboard page fed by subscriptions: stations post readings to
 * `/api/v1/readings`; `GET /dashboard` is a page whose script follows
 * `/api/v1/readings/$subscribe` (server-sent events) and shows every new
 * reading, the count and the mean as they are committed. No external assets:
 * the page and its script are served by the service, under a strict CSP.
 *
 *   bun examples/realtime_dashboard.ts        (PORT, DATABASE_URL)
 *   open http://127.0.0.1:8000/dashboard
 *   curl -s localhost:8000/api/v1/readings -H 'content-type: application/json' -d '{"station":"north","value":21.5}'
 */
import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { defineEntity, ServiceBuilder } from "chapkit";

/** One measurement from a station. */
export const Reading = defineEntity({
  table: "readings",
  fields: { station: Type.String({ minLength: 1, maxLength: 64 }), value: Type.Number() },
});

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Readings, live</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 2rem; color: #1f2933; }
  .stats { display: flex; gap: 2rem; margin-bottom: 1rem; }
  .stat b { display: block; font-size: 1.8rem; }
  table { border-collapse: collapse; min-width: 24rem; }
  td, th { padding: .3rem .8rem; border-bottom: 1px solid #d9e2ec; text-align: left; }
  #state { color: #627d98; }
</style>
</head>
<body>
<h1>Readings, live</h1>
<p id="state">connecting…</p>
<div class="stats">
  <div class="stat">readings <b id="count">0</b></div>
  <div class="stat">mean <b id="mean">–</b></div>
</div>
<table><thead><tr><th>station</th><th>value</th><th>at</th></tr></thead><tbody id="rows"></tbody></table>
<script src="/dashboard.js"></script>
</body>
</html>`;

const SCRIPT = `"use strict";
let count = 0, sum = 0;
const rows = document.getElementById("rows");
const source = new EventSource("/api/v1/readings/$subscribe?types=entity.created");
source.onopen = () => { document.getElementById("state").textContent = "live"; };
source.onerror = () => { document.getElementById("state").textContent = "reconnecting…"; };
source.onmessage = (message) => {
  const event = JSON.parse(message.data);
  const reading = event.data.entity;
  count += 1; sum += reading.value;
  document.getElementById("count").textContent = String(count);
  document.getElementById("mean").textContent = (sum / count).toFixed(2);
  const row = document.createElement("tr");
  for (const text of [reading.station, String(reading.value), new Date(event.timestamp).toLocaleTimeString()]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.appendChild(cell);
  }
  rows.prepend(row);
};
`;

const pages = new Elysia()
  .get("/dashboard", () =>
    new Response(PAGE, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'",
      },
    }), { detail: { hide: true } })
  .get("/dashboard.js", () => new Response(SCRIPT, { headers: { "content-type": "text/javascript; charset=utf-8" } }), { detail: { hide: true } });

/** The dashboard service on `databaseUrl`. */
export function createDashboard(databaseUrl = "sqlite::memory:"): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "Live readings" }, databaseUrl })
    .withHealth()
    .withEntity(Reading)
    .withRealtime()
    .use(pages);
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  await createDashboard(env.DATABASE_URL ?? "sqlite:./readings.db").listen();
}
