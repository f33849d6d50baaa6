import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { SystemService } from './system.service.js';

test('storage: database and table sizes, the data directory disk; null when there is none or it cannot be read', async () => {
  const db = await openDb({ url: 'memory://' });
  try {
    await migrate(db);
    const onDisk = await new SystemService({ db, dataDir: tmpdir() }).storage();
    assert.ok(onDisk.database.bytes > 0);
    assert.equal(await new SystemService({ db, dataDir: null }).databaseBytes(), onDisk.database.bytes);
    assert.ok(onDisk.database.tables.some((t) => t.table === 'users'));
    assert.equal(onDisk.dataDir?.path, tmpdir());
    assert.ok((onDisk.dataDir?.totalBytes ?? 0) >= (onDisk.dataDir?.freeBytes ?? -1));
    assert.equal((await new SystemService({ db, dataDir: null }).storage()).dataDir, null);
    assert.equal((await new SystemService({ db, dataDir: join(tmpdir(), 'no-such-dir-pcapmesh') }).storage()).dataDir, null);
  } finally {
    await db.close();
  }
});
