import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from './log.js';
import { recentLogs } from './log-ring.js';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('secrets are redacted at any of the first levels; other fields kept', () => {
  const out = capture();
  const log = createLogger({ log: { level: 'info' } }, { destination: out.stream });
  log.info({ sensor: 'edge-1', secret: 's3cret', config: { mqtt: { password: 'pw', host: 'h' } }, req: { headers: { authorization: 'Bearer t' } } }, 'hello');
  log.child({ sensor: 'edge-2' }).info({ token: 'tok', apiToken: 'api' }, 'child');
  const [first, second] = out.lines();
  assert.equal(first!.sensor, 'edge-1');
  assert.equal(first!.secret, '[redacted]');
  assert.deepEqual(first!.config, { mqtt: { password: '[redacted]', host: 'h' } });
  assert.deepEqual(first!.req, { headers: { authorization: '[redacted]' } });
  assert.equal(first!.msg, 'hello');
  assert.equal(second!.sensor, 'edge-2');
  assert.equal(second!.token, '[redacted]');
  assert.equal(second!.apiToken, '[redacted]');
  const text = JSON.stringify(out.lines());
  for (const secret of ['s3cret', '"pw"', 'Bearer t', '"tok"', '"api"']) assert.ok(!text.includes(secret), `${secret} not logged`);
});

test('the level is honoured', () => {
  const out = capture();
  const log = createLogger({ log: { level: 'warn' } }, { destination: out.stream });
  log.info('quiet');
  log.warn('loud');
  assert.deepEqual(
    out.lines().map((l) => l.msg),
    ['loud'],
  );
});

test('redactUrl hides only the password', () => {
  assert.equal(redactUrl('postgres://u:pw@h:5432/db'), 'postgres://u:***@h:5432/db');
  assert.equal(redactUrl('redis://h:6379'), 'redis://h:6379');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test('log.format: auto is JSON off a terminal and readable on one; pretty and json force either; /admin/logs keeps JSON', () => {
  const line = (format: 'auto' | 'json' | 'pretty', isTerminal: boolean): string => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    createLogger({ log: { level: 'info', format } }, { destination: stream, isTerminal })
      .child({ component: 'broker' })
      .info({ sensor: 'edge-1', password: 'pw' }, 'sensor connected');
    return chunks.join('');
  };
  const json = JSON.parse(line('auto', false)) as Record<string, unknown>;
  assert.equal(json.msg, 'sensor connected');
  assert.equal(json.component, 'broker');
  assert.equal(JSON.parse(line('json', true)).msg, 'sensor connected');
  const readable = /^\d\d:\d\d:\d\d\.\d{3} INFO {2}collector \[broker\] sensor connected sensor=edge-1 password=\[redacted\]\n$/;
  assert.match(line('pretty', false), readable);
  // On a terminal the level and component are coloured; stripped, the line is the same.
  const tty = line('auto', true);
  assert.ok(tty.includes('\u001b['), 'coloured on a terminal');
  // eslint-disable-next-line no-control-regex
  assert.match(tty.replace(/\u001b\[\d+m/g, ''), readable);
  assert.equal(recentLogs.query({ limit: 1 })[0]?.msg, 'sensor connected');
});
