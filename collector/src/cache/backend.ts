/** What both cache backends (memory.ts, redis.ts) share: TTL checks and safe delivery to subscribers. */

/** Calls a subscriber; what it throws is reported on stderr and never reaches the store. */
export function deliver(handler: (message: string) => void, channel: string, message: string): void {
  try {
    handler(message);
  } catch (err) {
    console.error(`cache subscriber of ${channel} failed:`, err);
  }
}

/** Checks a TTL argument (whole seconds ≥ 1). */
export function checkTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)) {
    throw new Error(`cache TTL must be a whole number of seconds ≥ 1, got ${ttlSeconds}`);
  }
}
