import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from './log.js';
import { CollectorClock, serverTimeOf } from './clock.js';

/**
 * A collector's public health endpoint whose clock runs `skewMs` ahead of ours (a real HTTP
 * server: the offset arithmetic is checked over a real socket; the true collector on the same
 * host has no skew to measure).
 */
async function skewedCollector(skewMs: number, form: 'ms' | 'iso'): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== '/api/v1/health') {
      res.writeHead(404).end();
      return;
    }
    const now = Date.now() + skewMs;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', time: form === 'ms' ? now : new Date(now).toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const logger = createLogger('silent');

test('the offset to a skewed collector is measured within the round trip', async () => {
  for (const form of ['ms', 'iso'] as const) {
    const { url, server } = await skewedCollector(-42_000, form);
    try {
      const clock = new CollectorClock(url, logger);
      const offset = await clock.refresh();
      assert.ok(offset !== null && Math.abs(offset + 42_000) <= 5 + (clock.rttMs ?? 0), `${form}: offset ${offset}`);
      assert.equal(clock.offsetMs, offset);
      const rtt = clock.rttMs;
      assert.equal(await clock.refreshIfDue(60_000), offset, 'a fresh offset is not re-measured');
      assert.equal(clock.rttMs, rtt);
    } finally {
      server.close();
    }
  }
});

test('no collector configured or reachable: the offset is unknown (null)', async () => {
  assert.equal(await new CollectorClock(undefined, logger).refresh(), null);
  const { url, server } = await skewedCollector(0, 'ms');
  server.close();
  const clock = new CollectorClock(url, logger, 2, 500);
  assert.equal(await clock.refresh(), null);
  assert.equal(clock.offsetMs, null);
});

test('server time is read from epoch ms or ISO 8601, nothing else', () => {
  assert.equal(serverTimeOf({ time: 1_700_000_000_000 }), 1_700_000_000_000);
  assert.equal(serverTimeOf({ time: '2023-11-14T22:13:20.000Z' }), 1_700_000_000_000);
  assert.equal(serverTimeOf({ time: 'noon' }), null);
  assert.equal(serverTimeOf({}), null);
  assert.equal(serverTimeOf(null), null);
});
