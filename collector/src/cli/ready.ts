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
