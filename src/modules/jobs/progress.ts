/**
 * A job's `progress` function: checks the fraction, keeps only the latest
 * value while a write is in flight, and resolves each call once its value
 * (or a later one) is stored. A failed write is reported to `failed`, never
 * to the job, which may not await its progress calls.
 */
export function progressReporter(
  write: (fraction: number, message: string | null) => Promise<unknown>,
  written: () => void,
  failed: (error: unknown) => void,
): (fraction: number, message?: string) => Promise<void> {
  let latest: { fraction: number; message: string | null } | undefined;
  let flushing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    try {
      while (latest !== undefined) {
        const value = latest;
        latest = undefined;
        await write(value.fraction, value.message);
        written();
      }
    } catch (error) {
      failed(error);
    } finally {
      flushing = undefined;
    }
  };
  return (fraction, message) => {
    if (typeof fraction !== "number" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new RangeError(`Job progress must be a number from 0 to 1, got ${String(fraction)}`);
    }
    latest = { fraction, message: message ?? null };
    flushing ??= flush();
    return flushing;
  };
}
