import { expect, test } from 'vitest';
import { avatarProblem, timeZones } from './preferences.data.js';

test('avatar files are checked before upload: type and 256 KB, with the reason', () => {
  expect(avatarProblem({ size: 10_000, type: 'image/png' })).toBeNull();
  expect(avatarProblem({ size: 256 * 1024, type: 'image/webp' })).toBeNull();
  expect(avatarProblem({ size: 256 * 1024 + 1, type: 'image/jpeg' })).toMatch(/at most 256 KB \(this file has 257 KB\)/);
  expect(avatarProblem({ size: 10, type: 'image/gif' })).toMatch(/PNG, JPEG or WebP \(this file is image\/gif\)/);
  expect(avatarProblem({ size: 10, type: '' })).toMatch(/of unknown type/);
});

test('the time zone list holds the current zone', () => {
  expect(timeZones('Europe/Berlin')).toContain('Europe/Berlin');
  expect(timeZones('Mars/Olympus')[0]).toBe('Mars/Olympus');
});
