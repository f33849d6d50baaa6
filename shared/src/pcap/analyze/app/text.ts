/** Turns protocol bytes into display text: printable ASCII kept, anything else as `\DDD` (like dig). */
export function printable(d: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = d[i]!;
    s += c > 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\${c.toString().padStart(3, '0')}`;
  }
  return s;
}
