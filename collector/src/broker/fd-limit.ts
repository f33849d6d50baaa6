/**
 * The open-file limit (`ulimit -n`, RLIMIT_NOFILE) against the fleet a broker must hold: every
 * connected sensor is a socket. With the embedded broker those sockets are the collector's own;
 * with an external broker they are the broker's, whose limit this process cannot see (the check
 * then only says what the broker needs).
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept free for everything else (database pool, HTTP clients, files, logs). */
export const FD_HEADROOM = 512;

/** The soft limit on open files of this process, or null where /proc is not available. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | null {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return null;
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number.parseInt(soft, 10);
}

export interface FdVerdict {
  /** Descriptors the fleet needs (sensors + headroom). */
  needed: number;
  /** The soft limit, or null when unknown. */
  limit: number | null;
  /** A sentence for the log when the limit is too low (embedded) or what the broker needs (external); null when fine. */
  warning: string | null;
}

/** Checks `limit` for `fleet` sensors; `mode` says whose sockets they are. */
export function checkFdLimit(fleet: number, mode: 'embedded' | 'external', limit: number | null = openFileLimit()): FdVerdict {
  const needed = fleet + FD_HEADROOM;
  if (mode === 'external') {
    const warning =
      fleet > 1024 - FD_HEADROOM
        ? `the external broker needs an open-file limit of at least ${needed} for ${fleet} sensors (Mosquitto: LimitNOFILE in its systemd unit, or ulimit -n)`
        : null;
    return { needed, limit, warning };
  }
  if (limit === null || limit >= needed) return { needed, limit, warning: null };
  return {
    needed,
    limit,
    warning:
      `the open-file limit (ulimit -n) is ${limit}, below the ${needed} the embedded broker needs for ${fleet} sensors (one socket each, plus ${FD_HEADROOM}): ` +
      `connections past it fail; raise LimitNOFILE in the collector's systemd unit (or ulimit -n)`,
  };
}
