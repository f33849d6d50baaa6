/**
 * A dry run's estimates (docs/jobs.md): asks every online target `commands/{sensor}/estimate` at
 * once and waits for `sensors/{sensor}/estimates/{requestId}` answers, each up to the timeout.
 * Each sensor gets a request id of its own, so an answer is matched to exactly one question and
 * only the sensor that was asked may answer it.
 *
 * @example
 *   const answers = await estimates.ask(['edge-1', 'edge-2'], window, 'tcp port 443', 3000);
 *   answers.get('edge-1'); // EstimateMessage, or 'no-answer' after 3 s
 */
import { randomUUID } from 'node:crypto';
import type { EstimateMessage } from '@pcapmesh/shared/wire';
import type { CommandSender } from './jobs.ports.js';
import { timestampOfNs, type Interval } from './window.js';

export type EstimateAnswer = EstimateMessage | 'no-answer';

/** What receiving an answer did: matched a question, came from another sensor, or came too late / unasked. */
export type EstimateOutcome = 'applied' | 'not-permitted' | 'stale';

interface Waiting {
  sensor: string;
  resolve: (answer: EstimateAnswer) => void;
}

export class DryRunEstimates {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly commands: CommandSender,
    private readonly onSendError: (sensor: string, err: unknown) => void = () => undefined,
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Questions still waiting for an answer (tests, leak checks). */
  get open(): number {
    return this.waiting.size;
  }

  /** Asks every sensor in parallel; resolves when all answered or `timeoutMs` passed. Never rejects. */
  async ask(sensors: string[], window: Interval, filter: string, timeoutMs: number): Promise<Map<string, EstimateAnswer>> {
    const wire = { from: timestampOfNs(window.from), to: timestampOfNs(window.to) };
    const answers = await Promise.all(
      sensors.map(async (sensor) => {
        const requestId = this.newId();
        const answer = new Promise<EstimateAnswer>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting.delete(requestId);
            resolve('no-answer');
          }, timeoutMs);
          this.waiting.set(requestId, {
            sensor,
            resolve: (a) => {
              clearTimeout(timer);
              this.waiting.delete(requestId);
              resolve(a);
            },
          });
        });
        this.commands.send(sensor, 'estimate', { requestId, window: wire, filter }).catch((err: unknown) => {
          this.onSendError(sensor, err);
          this.waiting.get(requestId)?.resolve('no-answer');
        });
        return [sensor, await answer] as const;
      }),
    );
    return new Map(answers);
  }

  /** An answer from `sensor` (ingest). */
  receive(sensor: string, msg: EstimateMessage): EstimateOutcome {
    const w = this.waiting.get(msg.requestId);
    if (w === undefined) return 'stale';
    if (w.sensor !== sensor) return 'not-permitted';
    w.resolve(msg);
    return 'applied';
  }
}
