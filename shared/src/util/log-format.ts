/**
 * Readable log lines for a terminal, made from pino's JSON lines (collector and agent):
 *
 *   22:41:07.120 INFO  collector [broker] sensor connected sensor=edge-1
 *   22:41:09.004 ERROR collector [ingest] store failed sensor=edge-1 err="connection refused"
 *       Error: connection refused
 *           at …
 *
 * Time (UTC, like the JSON `time`), level, service, component in brackets, the message, then every
 * other field as key=value (strings quoted when they hold spaces, objects as JSON). An error's stack
 * follows on indented lines. A line that is not a JSON object is passed through unchanged.
 * Secrets are redacted before this runs (pino's redact), so the readable form shows what the JSON
 * form shows.
 *
 * @example
 *   pino({ hooks: { streamWrite: (line) => formatLogLine(line, { color: true }) } }, dest);
 */

export type LogFormat = 'auto' | 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// ANSI colours by level: grey, cyan, green, yellow, red, magenta.
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields shown in the line's head, not repeated as key=value. */
const HEAD_FIELDS = new Set(['time', 'level', 'msg', 'service', 'component', 'pid', 'hostname']);

/** True when `format` asks for readable lines on a destination that is (`auto`) or is not a terminal. */
export function wantsPretty(format: LogFormat, isTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTerminal);
}

function paint(text: string, code: string | undefined, color: boolean): string {
  return color && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/** One pino JSON line (with or without its newline) as a readable line ending in a newline. */
export function formatLogLine(line: string, opts: { color?: boolean } = {}): string {
  const color = opts.color === true;
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.endsWith('\n') ? line : `${line}\n`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const time =
    typeof entry.time === 'string' ? entry.time.slice(11, 23) : typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const head = [
    time,
    paint((LEVEL_NAMES[level] ?? String(level)).padEnd(5), LEVEL_COLORS[level], color),
    typeof entry.service === 'string' ? entry.service : '',
    typeof entry.component === 'string' ? paint(`[${entry.component}]`, '1', color) : '',
    typeof entry.msg === 'string' ? entry.msg : '',
  ].filter((part) => part !== '');
  let stack = '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HEAD_FIELDS.has(key)) continue;
    // pino serialises an Error under `err` as { type, message, stack }: the message inline, the stack below.
    if (key === 'err' && typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
      const err = value as { message: string; stack?: unknown };
      fields.push(`err=${showValue(err.message)}`);
      if (typeof err.stack === 'string') stack = `\n${err.stack.replace(/^/gm, '    ')}`;
      continue;
    }
    fields.push(`${paint(key, '2', color)}=${showValue(value)}`);
  }
  return `${[...head, ...fields].join(' ')}${stack}\n`;
}
