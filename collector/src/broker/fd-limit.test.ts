import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFdLimit, FD_HEADROOM, openFileLimit } from './fd-limit.js';

test('the open-file limit is read from /proc limits (soft column; unlimited; missing file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-fd-'));
  try {
    const file = join(dir, 'limits');
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n',
    );
    assert.equal(openFileLimit(file), 1024);
    writeFileSync(file, 'Max open files            unlimited            unlimited            files\n');
    assert.equal(openFileLimit(file), Number.POSITIVE_INFINITY);
    assert.equal(openFileLimit(join(dir, 'absent')), null);
    // This process's own limit is a positive number on Linux.
    assert.ok((openFileLimit() ?? 1) > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a limit below fleet + headroom is a warning naming both numbers; enough is none', () => {
  const low = checkFdLimit(5_000, 'embedded', 1024);
  assert.equal(low.needed, 5_000 + FD_HEADROOM);
  assert.match(low.warning ?? '', /ulimit -n\) is 1024, below the 5512 .* 5000 sensors/);
  assert.equal(checkFdLimit(5_000, 'embedded', 65_536).warning, null);
  assert.equal(checkFdLimit(100, 'embedded', 1024).warning, null);
  assert.equal(checkFdLimit(5_000, 'embedded', null).warning, null);
  // External broker: the sockets are the broker's; the log says what it needs.
  assert.match(checkFdLimit(10_000, 'external', 1024).warning ?? '', /external broker needs an open-file limit of at least 10512/);
  assert.equal(checkFdLimit(10, 'external', 1024).warning, null);
});
