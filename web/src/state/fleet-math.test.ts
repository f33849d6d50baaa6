import { describe, expect, test } from 'vitest';
import { formatBytes, indexedLabel } from './fleet-math.js';

describe('capture source figures', () => {
  test('formatBytes: bytes as they are, then binary units with three significant digits', () => {
    expect([0, 1023, 1024, 1536, 10 * 2 ** 20, 1.5 * 2 ** 30, 3 * 2 ** 50, 2 ** 70].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.00 KiB',
      '1.50 KiB',
      '10.0 MiB',
      '1.50 GiB',
      '3.00 PiB',
      '1024 EiB',
    ]);
  });

  test('indexedLabel: "indexed of indexable", or null when the agent does not report indexing', () => {
    expect(indexedLabel({ indexedFiles: 12, unindexedFiles: 2 })).toBe('12 of 14');
    expect(indexedLabel({ indexedFiles: 0, unindexedFiles: 0 })).toBe('0 of 0');
    expect(indexedLabel({})).toBeNull();
  });
});
