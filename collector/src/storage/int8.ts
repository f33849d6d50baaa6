/** int8 text → number (both drivers). Throws rather than silently losing precision. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${text} exceeds JavaScript's safe integer range`);
  return n;
}
