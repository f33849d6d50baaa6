import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from './log.js';

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
