import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine, wantsPretty } from './log-format.js';

test('a pino JSON line becomes one readable line: time, level, service, [component], message, key=value', () => {
  const line = JSON.stringify({
    level: 40,
    time: '2026-12-07T22:41:07.120Z',
    service: 'collector',
    component: 'broker',
    sensor: 'edge-1',
    address: '10.0.0.5',
    detail: 'too big here',
    limits: { a: 1 },
    msg: 'MQTT connection closed',
  });
  assert.equal(
    formatLogLine(`${line}\n`),
    '22:41:07.120 WARN  collector [broker] MQTT connection closed sensor=edge-1 address=10.0.0.5 detail="too big here" limits={"a":1}\n',
  );
});

test('an error shows its message inline and its stack indented below; colour only when asked', () => {
  const line = JSON.stringify({
    level: 50,
    time: '2026-12-07T22:41:09.004Z',
    err: { type: 'Error', message: 'refused', stack: 'Error: refused\n    at x (y.js:1:1)' },
    msg: 'store failed',
  });
  assert.equal(formatLogLine(line), '22:41:09.004 ERROR store failed err=refused\n    Error: refused\n        at x (y.js:1:1)\n');
  const coloured = formatLogLine(line, { color: true });
  assert.ok(coloured.includes('\u001b[31mERROR\u001b[0m'), coloured);
  assert.ok(!formatLogLine(line).includes('\u001b['));
});

test('lines that are not JSON objects pass through; auto is pretty only on a terminal', () => {
  assert.equal(formatLogLine('plain text'), 'plain text\n');
  assert.equal(formatLogLine('[1,2]\n'), '[1,2]\n');
  assert.equal(wantsPretty('auto', true), true);
  assert.equal(wantsPretty('auto', false), false);
  assert.equal(wantsPretty('pretty', false), true);
  assert.equal(wantsPretty('json', true), false);
});
