/** A termination signal a service reacts to. */
export type TerminationSignal = "SIGTERM" | "SIGINT";

interface SignalGlobals {
  Deno?: {
    addSignalListener(signal: string, handler: () => void): void;
    removeSignalListener(signal: string, handler: () => void): void;
  };
  process?: {
    on(signal: string, handler: () => void): void;
    off(signal: string, handler: () => void): void;
  };
}

const globals = globalThis as unknown as SignalGlobals;

/**
 * Calls `handler` once when the process receives SIGTERM or SIGINT.
 * Returns a function that removes the listeners.
 */
export function onTermination(handler: (signal: TerminationSignal) => void): () => void {
  const signals: TerminationSignal[] = ["SIGTERM", "SIGINT"];
  let fired = false;
  const listeners = signals.map((signal) => {
    const listener = (): void => {
      if (fired) return;
      fired = true;
      handler(signal);
    };
    return { signal, listener };
  });
  const deno = globals.Deno;
  const process = globals.process;
  for (const { signal, listener } of listeners) {
    if (deno) deno.addSignalListener(signal, listener);
    else process?.on(signal, listener);
  }
  return () => {
    for (const { signal, listener } of listeners) {
      if (deno) deno.removeSignalListener(signal, listener);
      else process?.off(signal, listener);
    }
  };
}

/**
 * Calls `handler` each time the process receives SIGHUP (the conventional
 * "reload your configuration" signal). Returns a function that removes it.
 */
export function onHangup(handler: () => void): () => void {
  const deno = globals.Deno;
  const process = globals.process;
  if (deno) deno.addSignalListener("SIGHUP", handler);
  else process?.on("SIGHUP", handler);
  return () => {
    if (deno) deno.removeSignalListener("SIGHUP", handler);
    else process?.off("SIGHUP", handler);
  };
}

interface ExitGlobals {
  Deno?: { exit(code: number): never };
  process?: { exit(code: number): never };
}

/** Ends the process with `code`. */
export function exitProcess(code: number): void {
  const exit = globalThis as unknown as ExitGlobals;
  if (exit.Deno) exit.Deno.exit(code);
  else exit.process?.exit(code);
}
