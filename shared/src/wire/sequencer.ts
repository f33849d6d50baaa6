import { SCHEMA_VERSION, type Body, type MessageKind, type MessageOf } from './schemas.js';

/**
 * Stamps outgoing messages with the envelope: schema version, send time and the next sequence
 * number. The starting sequence comes from the caller (the agent restores it from its spool so
 * numbers keep increasing across restarts).
 */
export class Sequencer {
  constructor(
    private nextSeq = 0,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The sequence number the next message will carry. */
  get next(): number {
    return this.nextSeq;
  }

  stamp<K extends MessageKind>(_kind: K, body: Body<K>): MessageOf<K> {
    return { ...body, v: SCHEMA_VERSION, sentAt: this.clock(), seq: this.nextSeq++ } as MessageOf<K>;
  }
}
