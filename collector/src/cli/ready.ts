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

export function printFirstStartNotes(collector: FirstStartNotes): void {
  if (collector.apiTokenFile) process.stderr.write(`API token written to ${collector.apiTokenFile}\n`);
  if (collector.generatedAdminPassword) {
    process.stderr.write(
      `first start: user "admin" created with password ${collector.generatedAdminPassword} (shown only this once; change it with "pcapmesh user passwd admin")\n`,
    );
  }
}
