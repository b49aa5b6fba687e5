import { type Browser, chromium, type Page } from "playwright-core";

/** Launches the system Chromium headless (`CHROMIUM_PATH`, default `/usr/bin/chromium`); nothing is downloaded. */
export function launchChromium(): Promise<Browser> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  return chromium.launch({
    executablePath: env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Aborts every request that leaves 127.0.0.1 and records its URL. */
export async function blockInternet(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  return blocked;
}
