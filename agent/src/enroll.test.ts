import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackUrl, parseEnrollArgs } from './enroll.js';

const parse = (...argv: string[]) => parseEnrollArgs(argv, '/etc/pcapmesh/agent.yaml');

test('enroll refuses a plain http:// collector on another machine unless --insecure', () => {
  const refused = parse('--collector', 'http://collector.example:8080', '--token', 'pme_x');
  assert.ok('error' in refused);
  assert.match(refused.error, /plain http.*secret unencrypted.*https:\/\/.*--insecure/);
  assert.deepEqual(parse('--collector', 'http://collector.example:8080', '--token', 'pme_x', '--insecure'), {
    collector: 'http://collector.example:8080',
    token: 'pme_x',
    config: '/etc/pcapmesh/agent.yaml',
  });
  assert.ok(!('error' in parse('--collector', 'https://collector.example:8443/', '--token', 'pme_x')));
  // This machine: the secret never leaves it.
  for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) {
    assert.ok(!('error' in parse('--collector', url, '--token', 'pme_x')), url);
  }
});

test('loopback detection does not take look-alike names', () => {
  assert.equal(isLoopbackUrl('http://127.0.0.1.example.com/'), false);
  assert.equal(isLoopbackUrl('http://localhost.example/'), false);
  assert.equal(isLoopbackUrl('http://10.0.0.1/'), false);
  assert.equal(isLoopbackUrl('http://127.5.6.7:1/'), true);
});
