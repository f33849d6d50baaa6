import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The one stdout line a test harness or supervisor waits for. */
export interface ReadyLine {
  event: 'ready';
  http: string;
  /** Embedded broker plain port; null with an external broker. */
  mqtt: number | null;
  mqtts?: number;
}

export function printReady(line: Omit<ReadyLine, 'event'>): void {
  process.stdout.write(`${JSON.stringify({ event: 'ready', ...line })}\n`);
}

/** What a first start must tell the operator once, on stderr (never in the logs). */
export interface FirstStartNotes {
  apiTokenFile: string | null;
  generatedAdminPassword: string | null;
}

/** The file a generated admin password goes to when stderr is not a terminal. */
export const ADMIN_PASSWORD_FILE = 'admin-password';

/**
 * Tells the operator where the API token went and the generated admin password. On a terminal the
 * password is printed; otherwise (systemd, a pipe: stderr ends in the journal or a log file) it is
 * written to `<dataDir>/admin-password` with mode 0600 and only that path is printed.
 */
export function printFirstStartNotes(collector: FirstStartNotes, where: { dataDir: string; terminal?: boolean; write?: (text: string) => void }): void {
  const write = where.write ?? ((text: string) => process.stderr.write(text));
  if (collector.apiTokenFile) write(`API token written to ${collector.apiTokenFile}\n`);
  const password = collector.generatedAdminPassword;
  if (password === null) return;
  if (where.terminal ?? process.stderr.isTTY === true) {
    write(`first start: user "admin" created with password ${password} (shown only this once; change it with "pcapmesh user passwd admin")\n`);
    return;
  }
  const file = join(where.dataDir, ADMIN_PASSWORD_FILE);
  try {
    // With PostgreSQL nothing else may have created the data directory yet.
    mkdirSync(where.dataDir, { recursive: true, mode: 0o700 });
    writeSecretFile(file, `${password}\n`);
  } catch (err) {
    // Not printed instead: stderr is a journal or a file here. The collector keeps running.
    write(
      `first start: user "admin" created, but its generated password could not be written to ${file} (${(err as Error).message}); set one with "pcapmesh user passwd admin"\n`,
    );
    return;
  }
  write(`first start: user "admin" created; its password is in ${file} (mode 0600; delete the file once read, change it with "pcapmesh user passwd admin")\n`);
}

/** Writes `text` to `file` readable by the owner only (a temporary file renamed over, created 0600). */
function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
