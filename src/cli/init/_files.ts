/** The files every template shares: manifests, container files, .gitignore and README. */
import type { ChapkitSource, ProjectTemplate, TemplateContext } from "./template.ts";

const TYPEBOX = "^0.34.52";
const NODE_TYPES = "^20.19.43";

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function chapkitDependency(source: ChapkitSource): string {
  return source.kind === "registry" ? source.version : `file:${source.path}`;
}

/** Whether a Deno project resolves chapkit from `node_modules` (and so needs a package.json and an install). */
export function denoUsesNodeModules(source: ChapkitSource): boolean {
  return source.kind === "file";
}

function packageJson(template: ProjectTemplate, context: TemplateContext, scripts: Record<string, string>): string {
  return json({
    name: context.name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts,
    dependencies: { "@sinclair/typebox": TYPEBOX, ...template.peerPackages, chapkit: chapkitDependency(context.chapkit) },
    // deno check reads Node's types for npm packages from node_modules when it does not install them itself.
    ...(context.runtime === "deno" ? { devDependencies: { "@types/node": NODE_TYPES } } : {}),
  });
}

function denoJson(template: ProjectTemplate, context: TemplateContext): string {
  const tasks = { start: "deno run -A main.ts", dev: "deno run -A --watch main.ts", test: "deno test -A" };
  const { chapkit } = context;
  if (chapkit.kind === "file") return json({ nodeModulesDir: "manual", tasks });
  const imports: Record<string, string> = chapkit.kind === "source"
    ? { ...chapkit.imports, chapkit: `${chapkit.path}/mod.ts` }
    : { chapkit: `npm:chapkit@${chapkit.version}`, "chapkit/": `npm:chapkit@${chapkit.version}/` };
  imports["@sinclair/typebox"] ??= `npm:@sinclair/typebox@${TYPEBOX}`;
  for (const [name, range] of Object.entries(template.peerPackages ?? {})) imports[name] ??= `npm:${name}@${range}`;
  return json({ imports, tasks });
}

function dockerfile(template: ProjectTemplate, context: TemplateContext): string {
  const apt = template.aptPackages?.length
    ? `RUN apt-get update && apt-get install -y --no-install-recommends ${template.aptPackages.join(" ")} && rm -rf /var/lib/apt/lists/*\n`
    : "";
  const common = "ENV PORT=8000\nEXPOSE 8000\n";
  if (context.runtime === "bun") {
    return `FROM oven/bun:1\n${apt}WORKDIR /app\nCOPY package.json bun.lock* ./\nRUN bun install --production\n` +
      `COPY . .\nRUN chown -R bun:bun /app\nUSER bun\n${common}CMD ["bun", "main.ts"]\n`;
  }
  const install = denoUsesNodeModules(context.chapkit) ? "COPY package.json ./\nRUN npm install --omit=dev\n" : "";
  return `FROM denoland/deno:2\n${apt}WORKDIR /app\n${install}COPY . .\nRUN chown -R deno:deno /app\nUSER deno\n` +
    `RUN deno cache main.ts\n${common}CMD ["deno", "run", "-A", "main.ts"]\n`;
}

function compose(template: ProjectTemplate, context: TemplateContext): string {
  const env = Object.entries(template.env ?? {}).map(([key, value]) => `      ${key}: "${value}"\n`).join("");
  return `# docker compose up --build: the service on http://127.0.0.1:8000 with PostgreSQL.
services:
  app:
    build: .
    ports:
      - "8000:8000"
    environment:
      DATABASE_URL: postgres://chapkit:chapkit@db:5432/${context.name.replace(/[^a-z0-9_]/g, "_")}
      LOG_FORMAT: json
${env}    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:17
    environment:
      POSTGRES_USER: chapkit
      POSTGRES_PASSWORD: chapkit
      POSTGRES_DB: ${context.name.replace(/[^a-z0-9_]/g, "_")}
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U chapkit"]
      interval: 2s
      retries: 30
    volumes:
      - db-data:/var/lib/postgresql/data
volumes:
  db-data: {}
`;
}

function readme(template: ProjectTemplate, context: TemplateContext): string {
  const envPrefix = Object.entries(template.env ?? {}).map(([key, value]) => `${key}=${value} `).join("");
  const bun = context.runtime === "bun";
  const install = bun ? "bun install\n" : denoUsesNodeModules(context.chapkit) ? "npm install\n" : "";
  const start = bun ? "bun main.ts" : "deno task start";
  const test = bun ? "bun test" : "deno task test";
  return `# ${context.title}

A [chapkit](https://www.npmjs.com/package/chapkit) service (template \`${template.name}\`: ${template.description}).

${template.usage}

## Run

\`\`\`sh
${install}${envPrefix}${start}                 # http://127.0.0.1:8000, docs at /docs
${test}                      # the tests in main.test.ts
npx chapkit test --url http://127.0.0.1:8000   # conformance smoke test of the running service
\`\`\`

\`DATABASE_URL\` chooses the store (default a SQLite file; \`postgres://…\` for PostgreSQL), \`PORT\` the port.

## Deploy

\`\`\`sh
docker compose up --build     # the service and PostgreSQL
\`\`\`
`;
}

const GITIGNORE = "node_modules/\n*.db\n*.db-shm\n*.db-wal\n.env\ndist/\n";

/** Every file of a new project from `template`, by relative path. */
export function projectFiles(template: ProjectTemplate, context: TemplateContext): Record<string, string> {
  const files: Record<string, string> = {
    "main.ts": template.main(context),
    "main.test.ts": template.test(context),
    Dockerfile: dockerfile(template, context),
    "compose.yml": compose(template, context),
    ".gitignore": GITIGNORE,
    "README.md": readme(template, context),
    ...template.files?.(context),
  };
  if (context.runtime === "bun") {
    files["package.json"] = packageJson(template, context, { start: "bun main.ts", dev: "chapkit dev", test: "bun test" });
  } else {
    files["deno.json"] = denoJson(template, context);
    if (denoUsesNodeModules(context.chapkit)) files["package.json"] = packageJson(template, context, {});
  }
  return files;
}
