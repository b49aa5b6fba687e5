import { escapeHtml } from "./html.ts";

/** Chapkit's assessed-status colours, as the badge shows them. */
export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  gray: "#6b7280",
  red: "#b42318",
  orange: "#c2410c",
  yellow: "#a16207",
  green: "#15803d",
};

// The base path inside a single-quoted script string: it cannot end the string or the script.
function inScript(text: string): string {
  return text.replace(/[\\'<>\n\r\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The model card of an ML service (`GET /`): it loads the info, the config
 * schema, recent jobs, the registry's models with versions and aliases, and
 * KServe V2 metadata, and offers a predict form that sends a sample to
 * `/v2/models/{name}/infer` and shows the answer. Everything is inline: no
 * external script, style or font.
 */
export function modelCardHtml(basePath = ""): string {
  const colours = JSON.stringify(STATUS_COLOURS);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Model card</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #1f2933; }
header { display: flex; gap: 1rem; align-items: center; }
header img { max-height: 3rem; }
.badge { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 999px; color: #fff; font-size: 0.85rem; }
section { margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #e5e7eb; padding: 0.3rem; text-align: left; font-size: 0.9rem; }
pre { background: #f5f7fa; padding: 0.5rem; border-radius: 4px; overflow-x: auto; }
button { cursor: pointer; }
.error { color: #b42318; }
</style>
</head>
<body>
<header><img id="logo" alt="" hidden><div><h1 id="name">Loading...</h1><span id="badge" class="badge"></span> <span id="version"></span></div></header>
<p id="description"></p>
<dl id="facts"></dl>
<section><h2>Registry</h2><table id="registry"><thead><tr><th>Model</th><th>Version</th><th>Status</th><th>Aliases</th><th>Metrics</th></tr></thead><tbody></tbody></table></section>
<section><h2>Try it</h2><form id="predict"><label>Model <select id="model"></select></label><div id="fields"></div><button type="submit">Predict</button></form><pre id="result"></pre></section>
<section><h2>Example requests</h2><div id="examples"></div></section>
<section><h2>Recent jobs</h2><table id="jobs"><thead><tr><th>Job</th><th>Status</th><th>Submitted</th></tr></thead><tbody></tbody></table></section>
<section><h2>Config schema</h2><pre id="schema"></pre></section>
<p><a href="${escapeHtml(`${basePath}/docs`)}">API documentation</a></p>
<script>
const BASE = '${inScript(basePath)}';
const COLOURS = ${colours};
const get = (path) => fetch(BASE + path).then((r) => { if (!r.ok) throw new Error(path + ": HTTP " + r.status); return r.json(); });
const el = (tag, text) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = String(text); return node; };
function row(table, cells) { const tr = el("tr"); for (const cell of cells) tr.append(el("td", cell)); document.querySelector(table + " tbody").append(tr); }
function fact(title, value) { if (value === null || value === undefined || value === "") return; const list = document.getElementById("facts"); list.append(el("dt", title), el("dd", typeof value === "object" ? JSON.stringify(value) : value)); }
function example(title, method, path, body) {
  const box = el("div"); const pre = el("pre");
  pre.textContent = "curl -X " + method + " " + location.origin + BASE + path + (body ? " -H 'content-type: application/json' -d '" + JSON.stringify(body) + "'" : "");
  const copy = el("button", "Copy"); copy.type = "button";
  copy.addEventListener("click", () => { navigator.clipboard?.writeText(pre.textContent).catch(() => {}); copy.textContent = "Copied"; });
  box.append(el("h3", title), pre, copy); document.getElementById("examples").append(box);
}
let inputs = [];
async function load() {
  const info = await get("/api/v1/info");
  document.getElementById("name").textContent = info.display_name;
  document.getElementById("version").textContent = info.version ? "v" + info.version : "";
  const status = info.author_assessed_status || "gray";
  const badge = document.getElementById("badge");
  badge.textContent = status; badge.style.background = COLOURS[status] || COLOURS.gray; badge.dataset.status = status;
  document.getElementById("description").textContent = info.description || info.summary || "";
  if (info.organization_logo_url) { const logo = document.getElementById("logo"); logo.src = info.organization_logo_url; logo.alt = info.organization || "logo"; logo.hidden = false; }
  fact("Author", info.author); fact("Author note", info.author_note); fact("Organisation", info.organization);
  fact("Contact", info.contact_email || info.contact); fact("Citation", info.citation_info);
  get("/api/v1/config/$schema").then((schema) => { document.getElementById("schema").textContent = JSON.stringify(schema, null, 2); }).catch(() => {});
  get("/api/v1/jobs").then((jobs) => { for (const job of (Array.isArray(jobs) ? jobs : jobs.items || []).slice(-10).reverse()) row("#jobs", [job.id, job.status, job.submitted_at]); }).catch(() => {});
  const models = await get("/api/v1/models");
  const select = document.getElementById("model");
  for (const model of models) {
    select.append(new Option(model.name, model.name));
    for (const v of await get("/api/v1/models/" + encodeURIComponent(model.name) + "/versions")) {
      row("#registry", [model.name, v.version, v.status, v.aliases.join(", "), JSON.stringify(v.metrics)]);
    }
  }
  if (models.length > 0) await choose(models[0].name);
  select.addEventListener("change", () => choose(select.value));
}
async function choose(name) {
  const meta = await get("/v2/models/" + encodeURIComponent(name));
  inputs = meta.inputs;
  const fields = document.getElementById("fields"); fields.textContent = "";
  for (const input of inputs) { const label = el("label", input.name + " "); const box = el("input"); box.name = input.name; box.type = "number"; box.step = "any"; box.value = "1"; label.append(box); fields.append(label); }
  const sample = { inputs: inputs.map((i) => ({ name: i.name, shape: [1], datatype: i.datatype, data: [1] })) };
  document.getElementById("examples").textContent = "";
  example("KServe V2 inference", "POST", "/v2/models/" + name + "/infer", sample);
  example("Model metadata", "GET", "/v2/models/" + name);
  example("Versions", "GET", "/api/v1/models/" + name + "/versions");
}
document.getElementById("predict").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = document.getElementById("model").value; const result = document.getElementById("result");
  const body = { inputs: inputs.map((i) => ({ name: i.name, shape: [1], datatype: i.datatype, data: [Number(document.querySelector('input[name="' + i.name + '"]').value)] })) };
  try {
    const response = await fetch(BASE + "/v2/models/" + encodeURIComponent(name) + "/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    result.className = response.ok ? "" : "error";
    result.textContent = response.ok ? answer.model_name + " " + answer.model_version + ": " + answer.outputs.map((o) => o.name + " = " + o.data.join(", ")).join("; ") : answer.error;
  } catch (error) { result.className = "error"; result.textContent = String(error); }
});
load().catch((error) => { document.getElementById("name").textContent = "Failed to load the model card"; document.getElementById("description").textContent = String(error); });
</script>
</body>
</html>
`;
}
