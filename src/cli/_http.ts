/** HTTP for commands that talk to a running service (`--url`, `-H`). */
import type { Command } from "commander";
import { CliExit } from "./context.ts";

/** Options every `--url` command takes. */
export interface ServiceOptions {
  url: string;
  header: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `--url` (required) and the repeatable `-H, --header` to a command. */
export function serviceOptions(command: Command): Command {
  return command
    .requiredOption("-u, --url <url>", "base URL of the service, e.g. http://127.0.0.1:8000")
    .option("-H, --header <header>", "extra request header \"Name: value\" (repeatable, e.g. an API key)", collect, []);
}

/** `["Name: value", …]` as a header record. */
export function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(":");
    if (colon <= 0) throw new CliExit(2, `--header must look like "Name: value", got "${value}"`);
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Sends a request to the service with the `-H` headers and returns whatever it answers.
 *
 * @throws {CliExit} (1) when the service does not answer.
 */
export async function serviceRequest(options: ServiceOptions, path: string, init: RequestInit = {}): Promise<Response> {
  const url = `${options.url.replace(/\/+$/, "")}${path}`;
  try {
    return await fetch(url, { ...init, headers: { ...parseHeaders(options.header), ...(init.headers as Record<string, string>) } });
  } catch (error) {
    throw new CliExit(1, `${init.method ?? "GET"} ${url} did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Sends a request to the service and returns the response when it is 2xx.
 *
 * @throws {CliExit} (1) naming the status and the problem's detail otherwise, or when the service does not answer.
 */
export async function serviceFetch(options: ServiceOptions, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await serviceRequest(options, path, init);
  if (!response.ok) {
    const text = await response.text();
    let detail = text.slice(0, 500);
    try {
      detail = String((JSON.parse(text) as { detail?: unknown }).detail ?? detail);
    } catch { /* not JSON: keep the text */ }
    throw new CliExit(1, `${init.method ?? "GET"} ${path} answered ${response.status}: ${detail}`);
  }
  return response;
}
