/**
 * The recent structured log lines of this process, for `GET /api/v1/admin/logs`: a ring buffer
 * fed by every logger createLogger() makes (pino's streamWrite hook, so lines are kept exactly as
 * written — after redaction, never with a secret). The oldest lines fall out once `capacity`
 * is reached; lines are parsed only when queried.
 */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface LogQuery {
  /** Minimum level name (info: info, warn, error, fatal). */
  level?: string | undefined;
  /** Lines whose `component` equals this. */
  component?: string | undefined;
  /** Newest N matching lines (oldest first). */
  limit: number;
}

export class LogRing {
  private readonly lines: string[];
  private next = 0;
  private size = 0;
  /** Lines ever pushed (counter; the ring keeps `capacity`). */
  pushed = 0;

  constructor(readonly capacity = 2_000) {
    this.lines = new Array<string>(capacity);
  }

  push(line: string): void {
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.pushed += 1;
  }

  query(q: LogQuery): Record<string, unknown>[] {
    const minLevel = q.level === undefined ? 0 : (LEVELS[q.level] ?? 0);
    const out: Record<string, unknown>[] = [];
    for (let i = 1; i <= this.size && out.length < q.limit; i++) {
      const line = this.lines[(this.next - i + this.capacity) % this.capacity]!;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof entry.level === 'number' && entry.level < minLevel) continue;
      if (q.component !== undefined && entry.component !== q.component) continue;
      out.push(entry);
    }
    return out.reverse();
  }
}

export const LOG_LEVEL_NAMES = Object.keys(LEVELS);

/** The process's ring, fed by createLogger() (log.ts). */
export const recentLogs = new LogRing();
