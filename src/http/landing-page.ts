import { type AnyElysia, Elysia } from "elysia";
import { addRoute } from "./_route.ts";
import { escapeHtml, pageHeaders } from "./html.ts";

/** Options of {@link landingPage}. */
export interface LandingPageOptions {
  /** Prefix the service is mounted under inside a host app (default none). */
  basePath?: string;
  /** `info` (default): the service info; `model-card`: an ML service's model card (see `modelCardHtml`). */
  page?: "info" | "model-card";
}

// The base path inside a single-quoted script string: it cannot end the string or the script.
function inScript(text: string): string {
  return text.replace(/[\\'<>\n\r\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The landing page HTML: it loads `/api/v1/info` and renders it. */
export function landingPageHtml(basePath = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Service Info</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1f2933; }
h1 { margin-bottom: 0.25rem; }
dt { font-weight: 600; margin-top: 0.75rem; }
dd { margin: 0.25rem 0 0 0; }
pre { background: #f5f7fa; padding: 0.5rem; border-radius: 4px; overflow-x: auto; }
.error { color: #b42318; }
a { color: #1d4ed8; }
</style>
</head>
<body>
<main id="content"><p>Loading...</p></main>
<p><a href="${escapeHtml(`${basePath}/docs`)}">API documentation</a></p>
<script>
const SHOWN = ["display_name", "version", "summary", "description", "contact", "license_info"];
function label(key) {
  return key.split("_").map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(" ");
}
function entry(list, title, value) {
  const dt = document.createElement("dt");
  dt.textContent = title;
  const dd = document.createElement("dd");
  if (value !== null && typeof value === "object") {
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(value, null, 2);
    dd.appendChild(pre);
  } else {
    dd.textContent = String(value);
  }
  list.append(dt, dd);
}
fetch('${inScript(basePath)}/api/v1/info')
  .then((response) => {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  })
  .then((info) => {
    const content = document.getElementById("content");
    content.textContent = "";
    const heading = document.createElement("h1");
    heading.textContent = info.display_name;
    const list = document.createElement("dl");
    entry(list, "Version", info.version);
    if (info.summary) entry(list, "Summary", info.summary);
    if (info.description) entry(list, "Description", info.description);
    if (info.contact) entry(list, "Contact", info.contact);
    if (info.license_info) entry(list, "License", info.license_info);
    for (const [key, value] of Object.entries(info)) {
      if (SHOWN.includes(key) || value === null || value === undefined) continue;
      entry(list, label(key), value);
    }
    content.append(heading, list);
  })
  .catch(() => {
    const content = document.getElementById("content");
    content.innerHTML = '<p class="error">Failed to load service info</p>';
  });
</script>
</body>
</html>
`;
}

/** `GET /`: a page that shows the service info, or an ML service's model card (hidden from the OpenAPI document). */
export function landingPage(options: LandingPageOptions = {}): AnyElysia {
  const basePath = options.basePath ?? "";
  const app = new Elysia();
  if (options.page === "model-card") {
    // Only ML services show a model card: its page code loads with the first visit.
    let card: Promise<string> | undefined;
    addRoute(app, "GET", "/", async () => {
      card ??= import("./model-card-page.ts").then(({ modelCardHtml }) => modelCardHtml(basePath));
      return new Response(await card, { headers: pageHeaders() });
    }, { detail: { hide: true } });
    return app;
  }
  const html = landingPageHtml(basePath);
  addRoute(app, "GET", "/", () => new Response(html, { headers: pageHeaders() }), { detail: { hide: true } });
  return app;
}
