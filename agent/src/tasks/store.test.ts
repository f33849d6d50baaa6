import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskStore, type TaskRecord } from './store.js';

function record(taskId: string, status: TaskRecord['status'] = 'accepted'): TaskRecord {
  return {
    command: {
      v: 1,
      sentAt: 1,
      seq: 1,
      taskId,
      jobId: 'j',
      attempt: 2,
      window: { from: { sec: 1, nsec: 0 }, to: { sec: 2, nsec: 0 } },
      filter: 'tcp',
      limits: { maxBytes: 10, maxPackets: 10 },
      upload: { url: 'http://127.0.0.1:1/api/v1/tasks/x/upload', token: 'secret' },
    },
    status,
    updatedAt: 1000,
  };
}

test('task store: records round-trip (mode 0600, no temp file left); bad files are set aside and named; removeFiles takes result and parts', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'agent-store-')), 'tasks');
  try {
    const store = new TaskStore(dir);
    store.save(record('a'));
    store.save({ ...record('a'), status: 'scanning', progress: { filesScanned: 1, filesTotal: 2, packets: 3, bytes: 4 } });
    store.save(record('b', 'done'));
    assert.equal(statSync(store.recordPath('a')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.json']);
    writeFileSync(join(dir, 'broken.json'), '{"command":');
    writeFileSync(join(dir, 'other.json'), JSON.stringify(record('not-other')));
    const { records, bad } = store.load();
    assert.deepEqual(records.map((r) => [r.command.taskId, r.status]).sort(), [
      ['a', 'scanning'],
      ['b', 'done'],
    ]);
    assert.equal(records.find((r) => r.command.taskId === 'a')!.command.upload.token, 'secret');
    assert.deepEqual(bad.map((b) => b.file).sort(), [join(dir, 'broken.json'), join(dir, 'other.json')]);
    assert.match(bad.find((b) => b.file.endsWith('other.json'))!.reason, /does not match the file name/);
    assert.ok(existsSync(join(dir, 'broken.json.bad')));

    writeFileSync(store.resultPath('a'), 'pcap');
    mkdirSync(join(dir, '.a.pcap.parts-x1'));
    writeFileSync(store.resultPath('b'), 'pcap');
    store.removeFiles('a');
    assert.ok(existsSync(store.recordPath('a')));
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('a') || n.startsWith('.a')),
      ['a.json'],
    );
    assert.ok(existsSync(store.resultPath('b')), "another task's file is kept");
    store.remove('b');
    assert.ok(!existsSync(store.recordPath('b')) && !existsSync(store.resultPath('b')));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
