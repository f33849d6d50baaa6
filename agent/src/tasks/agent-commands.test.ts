import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { SCHEMA_VERSION, encodeMessage, topics, type EstimateMessage, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { Agent } from '../agent.js';
import { agentConfigSchema } from '../config.js';
import { TestBroker } from '../mqtt/broker.fixture.js';
import { UploadServer } from './upload-server.fixture.js';

const T0 = 1_700_000_000;

test('the agent over MQTT: a task command runs to done (statuses on sensors/{name}/tasks/{task}), an estimate is answered, junk is ignored, a repeat re-reports', async (t) => {
  const broker = new TestBroker();
  await broker.start();
  const server = new UploadServer();
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'agent-commands-'));
  t.after(async () => {
    await broker.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  writeRollingCaptures(join(dir, 'pcap'), { seed: 51, packets: 10_000, start: T0, duration: 100 }, 50);
  const config = agentConfigSchema.parse({
    name: 'tasker',
    mqtt: { url: broker.url },
    stateDir: join(dir, 'state'),
    captures: [{ name: 'watched', directory: join(dir, 'pcap') }],
    capture: { enabled: false },
    index: { enabled: false },
    tasks: { uploadChunkBytes: 64 * 1024 },
  });
  let online = false;
  const agent = new Agent(config, pino({ level: 'silent' }), { onOnline: () => (online = true) });
  await agent.start();
  try {
    await broker.until('online', () => online);
    const birth = broker.of('state').at(-1)!.message as { capabilities?: string[] };
    assert.ok(birth.capabilities?.includes('tasks') && birth.capabilities.includes('estimate'));

    server.tokens.set('t-mqtt', 'tok');
    const command = {
      v: SCHEMA_VERSION,
      sentAt: Date.now(),
      seq: 1,
      taskId: 't-mqtt',
      jobId: 'j-mqtt',
      attempt: 0,
      window: { from: { sec: T0 + 10, nsec: 0 }, to: { sec: T0 + 90, nsec: 0 } },
      filter: 'udp',
      limits: { maxBytes: 1 << 30, maxPackets: 1_000_000 },
      upload: { url: server.url('t-mqtt'), token: 'tok' },
    };
    await broker.publish(topics.command('tasker', 'tasks'), Uint8Array.from([0xff, 0x00, 0x13])); // not CBOR: counted, ignored
    await broker.publish(topics.command('tasker', 'tasks'), encodeMessage('task', command));
    const statuses = () => broker.of('task-status').map((r) => r.message as unknown as TaskStatusMessage);
    await broker.until('done', () => statuses().some((s) => s.status === 'done'), 60_000);
    assert.ok(broker.of('task-status').every((r) => r.topic === topics.taskStatus('tasker', 't-mqtt')));
    const seen = [...new Set(statuses().map((s) => s.status))];
    assert.deepEqual(seen, ['accepted', 'scanning', 'uploading', 'done']);
    const done = statuses().find((s) => s.status === 'done')!;
    assert.equal(server.uploads.get('t-mqtt')!.complete, true);
    assert.equal(server.uploads.get('t-mqtt')!.declared.sha256, done.result!.sha256);

    const count = statuses().length;
    await broker.publish(topics.command('tasker', 'tasks'), encodeMessage('task', { ...command, seq: 2 }));
    await broker.until('re-reported', () => statuses().length === count + 1);
    assert.equal(statuses().at(-1)!.status, 'done');

    await broker.publish(
      topics.command('tasker', 'estimate'),
      encodeMessage('estimate-command', { v: SCHEMA_VERSION, sentAt: Date.now(), seq: 3, requestId: 'est-1', window: command.window, filter: 'udp' }),
    );
    await broker.until('estimate', () => broker.of('estimate').length > 0);
    const estimate = broker.of('estimate')[0]!;
    assert.equal(estimate.topic, topics.estimate('tasker', 'est-1'));
    const answer = estimate.message as unknown as EstimateMessage;
    assert.equal(answer.files, 2);
    assert.equal(answer.indexedFiles, 0);
    assert.equal(answer.bytesToRead, answer.bytesInWindow);
  } finally {
    await agent.stop();
  }
});
