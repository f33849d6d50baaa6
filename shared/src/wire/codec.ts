/**
 * CBOR codec for agent ↔ collector messages. `decodeMessage` never throws: it returns the typed
 * message or a decode error with a reason the collector counts (`health/summary`).
 *
 * @example
 *   const bytes = encodeMessage('health', { ...body, v: SCHEMA_VERSION, sentAt: Date.now(), seq: 7 });
 *   const r = decodeMessage('health', bytes);
 *   if (r.ok) use(r.message); else count(r.reason);
 */
import { Decoder, Encoder } from 'cbor-x';
import { SCHEMA_VERSION, messageSchemas, type MessageKind, type MessageOf } from './schemas.js';

/** Largest payload accepted on any sensor topic. Bigger ones are rejected before decoding. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Deepest array/map nesting accepted; deeper is a decode failure (not-cbor) whatever the caller's stack. */
export const MAX_NESTING = 32;

export type DecodeFailure = 'oversized' | 'not-cbor' | 'schema' | 'version';
export const DECODE_FAILURES: readonly DecodeFailure[] = ['oversized', 'not-cbor', 'schema', 'version'];

export type DecodeResult<K extends MessageKind> = { ok: true; message: MessageOf<K> } | { ok: false; reason: DecodeFailure; detail: string };

// Plain CBOR maps (no cbor-x record extension), so any CBOR library can read what we send.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
// Decoding has a Decoder of its own, without shared record structures: an Encoder instance keeps the
// record definitions (tag 0xdfff/105) it has read and applies them to later payloads, so one sensor's
// bytes would change how the next sensor's message decodes. Here every payload starts from nothing.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function encodeMessage<K extends MessageKind>(kind: K, message: MessageOf<K>): Uint8Array {
  return cbor.encode(message);
}

export function decodeMessage<K extends MessageKind>(kind: K, payload: Uint8Array): DecodeResult<K> {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: 'oversized', detail: `${payload.byteLength} bytes, limit ${MAX_PAYLOAD_BYTES}` };
  }
  let value: unknown;
  try {
    value = decoder.decode(payload);
  } catch (err) {
    return { ok: false, reason: 'not-cbor', detail: err instanceof Error ? err.message : String(err) };
  }
  const scanned = scan(value);
  if (scanned === 'too-deep') {
    return { ok: false, reason: 'not-cbor', detail: `nested deeper than ${MAX_NESTING} levels` };
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > SCHEMA_VERSION) {
    return { ok: false, reason: 'version', detail: `schema version ${v}, this collector reads up to ${SCHEMA_VERSION}` };
  }
  if (scanned !== null) return { ok: false, reason: 'schema', detail: `${kind}: ${scanned.join('.') || '(message)'}: NUL character in a string` };
  const parsed = messageSchemas[kind].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(message)';
    return { ok: false, reason: 'schema', detail: `${kind}: ${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data as MessageOf<K> };
}

/**
 * One walk of a decoded payload. 'too-deep' when arrays/maps nest deeper than MAX_NESTING: payloads
 * nested deeper than the decoder's stack allows fail to decode, but where that limit lies depends on
 * how deep the caller's stack already is, so the same payload could decode in one process and not in
 * another; every payload nested deeper than any message (≤ 5 levels) is refused instead, the same
 * everywhere (and the walk's own recursion stays shallow). Otherwise the path of the first string
 * (value or key) holding a NUL character, or null: PostgreSQL text and JSON cannot store U+0000, so
 * such a message would fail every store and be sent again for ever (refused as a schema failure).
 */
function scan(value: unknown, depth = 0): 'too-deep' | (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? [] : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_NESTING) return 'too-deep';
  let nul: (string | number)[] | null = null;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (nul === null && typeof k === 'string' && k.includes('\u0000')) nul = [k];
    const found = scan(v, depth + 1);
    if (found === 'too-deep') return found;
    if (nul === null && found !== null) nul = [k, ...found];
  }
  return nul;
}

/** JSON for the `events/` tree: integrations (Telegraf, Node-RED, SIEMs) read it without code. */
export function encodeEvent(event: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(event));
}
