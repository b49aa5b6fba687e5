/** A termination signal a service reacts to. */
export type TerminationSignal = "SIGTERM" | "SIGINT";

interface SignalGlobals {
  Deno?: {
    addSignalListener(signal: TerminationSignal, handler: () => void): void;
    removeSignalListener(signal: TerminationSignal, handler: () => void): void;
  };
  process?: {
    on(signal: TerminationSignal, handler: () => void): void;
    off(signal: TerminationSignal, handler: () => void): void;
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
