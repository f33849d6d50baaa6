/**
 * On-disk record format of the spool (pure: bytes in, records out).
 *
 *   u32 LE  body length
 *   u32 LE  CRC-32 of the body
 *   body:   u8 format (1) · u8 kind · u8 flags (bit 0 = retain) · u8 reserved
 *           u48 LE record id · u48 LE message seq · u16 LE topic length · topic (UTF-8) · payload
 *
 * A record whose header or body is incomplete, or whose CRC does not match, ends the valid part of
 * a segment: that is how a write cut short by `kill -9` (a torn tail) is recognised.
 */
import { crc32 } from 'node:zlib';

/** Stored by index: new kinds go at the end, so older spools stay readable. */
export const SPOOL_KINDS = ['state', 'health', 'pcap', 'traffic', 'task-status', 'estimate'] as const;
export type SpoolKind = (typeof SPOOL_KINDS)[number];

export interface SpoolRecord {
  /** Position in the spool, 1, 2, 3 … across restarts. */
  id: number;
  /** The message's wire sequence number (its envelope `seq`). */
  seq: number;
  kind: SpoolKind;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
}

const FORMAT = 1;
const HEADER = 8;
const FIXED_BODY = 4 + 6 + 6 + 2;
/** Larger bodies are never written, so a bigger length field means damage. */
export const MAX_RECORD_BODY = 1024 * 1024;

export function encodeRecord(r: SpoolRecord): Buffer {
  const topic = Buffer.from(r.topic, 'utf8');
  const bodyLen = FIXED_BODY + topic.length + r.payload.byteLength;
  if (bodyLen > MAX_RECORD_BODY) throw new Error(`spool record of ${bodyLen} bytes exceeds ${MAX_RECORD_BODY}`);
  const buf = Buffer.allocUnsafe(HEADER + bodyLen);
  let o = HEADER;
  buf.writeUInt8(FORMAT, o++);
  buf.writeUInt8(SPOOL_KINDS.indexOf(r.kind), o++);
  buf.writeUInt8(r.retain ? 1 : 0, o++);
  buf.writeUInt8(0, o++);
  buf.writeUIntLE(r.id, o, 6);
  o += 6;
  buf.writeUIntLE(r.seq, o, 6);
  o += 6;
  buf.writeUInt16LE(topic.length, o);
  o += 2;
  topic.copy(buf, o);
  o += topic.length;
  buf.set(r.payload, o);
  buf.writeUInt32LE(bodyLen, 0);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER)), 4);
  return buf;
}

export interface DecodedRecord {
  record: SpoolRecord;
  /** Bytes the record occupies, header included. */
  size: number;
}

/**
 * Decodes the record at `offset`, or returns why the bytes there are not a whole valid record
 * (a torn or damaged tail). Never throws.
 */
export function decodeRecord(buf: Buffer, offset: number): DecodedRecord | { damage: string } {
  if (buf.length - offset < HEADER) return { damage: `partial record header at ${offset}` };
  const bodyLen = buf.readUInt32LE(offset);
  if (bodyLen < FIXED_BODY || bodyLen > MAX_RECORD_BODY) return { damage: `bad record length ${bodyLen} at ${offset}` };
  if (buf.length - offset - HEADER < bodyLen) return { damage: `record at ${offset} wants ${bodyLen} bytes, ${buf.length - offset - HEADER} left` };
  const body = buf.subarray(offset + HEADER, offset + HEADER + bodyLen);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { damage: `checksum mismatch in record at ${offset}` };
  const kind = SPOOL_KINDS[body.readUInt8(1)];
  if (body.readUInt8(0) !== FORMAT || kind === undefined) return { damage: `unknown record format at ${offset}` };
  const topicLen = body.readUInt16LE(16);
  if (FIXED_BODY + topicLen > bodyLen) return { damage: `bad topic length at ${offset}` };
  return {
    size: HEADER + bodyLen,
    record: {
      id: body.readUIntLE(4, 6),
      seq: body.readUIntLE(10, 6),
      kind,
      retain: (body.readUInt8(2) & 1) === 1,
      topic: body.toString('utf8', FIXED_BODY, FIXED_BODY + topicLen),
      payload: new Uint8Array(body.subarray(FIXED_BODY + topicLen)),
    },
  };
}
