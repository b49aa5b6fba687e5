/** Terminal output of the chapkit command: colours, status lines and a spinner for slow steps. */
import process from "node:process";
import { processEnvironment } from "../runtime/env.ts";

/** Where a command writes: stdout for results, stderr for progress and diagnostics. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is an interactive terminal (spinners animate only there). */
  readonly interactive: boolean;
  /** Whether colour codes may be written (a TTY and no `NO_COLOR`). */
  readonly color: boolean;
}

/** Output to the process's own streams. */
export function processOutput(): CliOutput {
  const interactive = Boolean(process.stderr.isTTY);
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    interactive,
    color: interactive && !processEnvironment().NO_COLOR,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI colour when the output allows colour. */
export function paint(output: CliOutput, colour: keyof typeof CODES, text: string): string {
  return output.color ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A running spinner: `update` changes its label, `stop` ends it with a final line. */
export interface Spinner {
  update(label: string): void;
  /** Erases the spinner line so other output can be written; the next frame redraws it. */
  clear(): void;
  stop(final?: string): void;
}

/**
 * Starts a spinner on stderr. On a terminal it animates after a short delay (so
 * fast steps print nothing extra); elsewhere it prints the label once, so logs of
 * CI runs still show what took time.
 */
export function spinner(output: CliOutput, label: string): Spinner {
  let current = label;
  let frame = 0;
  let shown = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const draw = (): void => {
    shown = true;
    output.err(`\r\x1b[2K${paint(output, "yellow", FRAMES[frame++ % FRAMES.length]!)} ${current}`);
  };
  if (output.interactive) {
    const delay = setTimeout(() => {
      draw();
      timer = setInterval(draw, 80);
    }, 150);
    timer = delay as unknown as ReturnType<typeof setInterval>;
  } else {
    output.err(`${label}…\n`);
  }
  return {
    update(next) {
      current = next;
    },
    clear() {
      if (shown) output.err("\r\x1b[2K");
      shown = false;
    },
    stop(final) {
      clearTimeout(timer);
      clearInterval(timer);
      if (shown) output.err("\r\x1b[2K");
      if (final !== undefined) output.err(`${final}\n`);
    },
  };
}

/** Runs `work` under a spinner; the spinner line is replaced by a ✓ or ✗ line. */
export async function withSpinner<T>(output: CliOutput, label: string, work: (s: Spinner) => Promise<T>): Promise<T> {
  const started = performance.now();
  const s = spinner(output, label);
  try {
    const result = await work(s);
    s.stop(`${paint(output, "green", "✓")} ${label} ${paint(output, "dim", `(${elapsed(started)})`)}`);
    return result;
  } catch (error) {
    s.stop(`${paint(output, "red", "✗")} ${label}`);
    throw error;
  }
}

/** Milliseconds since `started`, as `12 ms` or `1.4 s`. */
export function elapsed(started: number): string {
  const ms = performance.now() - started;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
