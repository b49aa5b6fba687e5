/**
 * The built-in docs page, served at `/docs` when the docs UI package
 * (`@scalar/api-reference`, an optional peer) is not installed: a small
 * script, served by the service, reads `/openapi.json` and lists every
 * operation with its parameters, request body and responses. Offline, no
 * other host asked.
 */

/** The script of the built-in page; the page's `data-spec` attribute names the document. */
export const FALLBACK_SCRIPT = `(() => {
  const root = document.getElementById("api");
  const el = (tag, text, cls) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; if (cls) node.className = cls; return node; };
  const resolve = (spec, schema) => {
    let seen = 0;
    while (schema && schema.$ref && seen++ < 16) schema = schema.$ref.split("/").slice(1).reduce((at, key) => at && at[key], spec);
    return schema;
  };
  const json = (value) => el("pre", JSON.stringify(value, null, 2));
  fetch(root.dataset.spec).then((r) => r.json()).then((spec) => {
    root.replaceChildren();
    root.append(el("h1", spec.info?.title ?? "API"), el("p", spec.info?.description ?? ""));
    for (const [path, item] of Object.entries(spec.paths ?? {})) {
      for (const [method, op] of Object.entries(item)) {
        if (typeof op !== "object" || !op || !("responses" in op)) continue;
        const box = el("details", undefined, "op");
        const head = el("summary");
        head.append(el("span", method.toUpperCase(), "method " + method), el("code", path), el("span", " " + (op.summary ?? ""), "summary"));
        box.append(head);
        if (op.description) box.append(el("p", op.description));
        if (op.parameters?.length) {
          box.append(el("h4", "Parameters"));
          const list = el("ul");
          for (const p of op.parameters.map((p) => resolve(spec, p))) list.append(el("li", p.name + " (" + p.in + (p.required ? ", required" : "") + ")" + (p.description ? ": " + p.description : "")));
          box.append(list);
        }
        const body = op.requestBody && resolve(spec, op.requestBody);
        for (const [type, media] of Object.entries(body?.content ?? {})) box.append(el("h4", "Request body " + type), json(resolve(spec, media.schema) ?? {}));
        box.append(el("h4", "Responses"));
        for (const [status, answer] of Object.entries(op.responses ?? {})) {
          const resolved = resolve(spec, answer) ?? {};
          box.append(el("p", status + " " + (resolved.description ?? "")));
          for (const media of Object.values(resolved.content ?? {})) if (media.schema) box.append(json(resolve(spec, media.schema)));
        }
        root.append(box);
      }
    }
  }).catch((error) => { root.textContent = "Could not load the OpenAPI document: " + error; });
})();
`;

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1d2430}
.op{border:1px solid #d5dae1;border-radius:6px;margin:.5rem 0;padding:.4rem .7rem}.op summary{cursor:pointer}
.method{display:inline-block;min-width:4.5rem;font-weight:600}.get{color:#1a7f37}.post{color:#0969da}.put,.patch{color:#9a6700}.delete{color:#cf222e}
.summary{color:#57606a}pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:13px}.note{color:#57606a;font-size:13px}`;

/** The built-in page: `title` and `description` are HTML-escaped by the caller. */
export function fallbackPageHtml(title: string, description: string, specUrl: string, scriptUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="${description}">
<style>${STYLE}</style>
</head>
<body>
<main id="api" data-spec="${specUrl}"><p>Loading the OpenAPI document…</p></main>
<p class="note">The full docs UI needs the optional package @scalar/api-reference (bun add @scalar/api-reference).</p>
<script src="${scriptUrl}"></script>
</body>
</html>
`;
}
