import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { createTestBroker } from './broker.fixture.js';

test('MQTT over TLS: a sensor connects with the CA, credentials still checked', async (t) => {
  const openssl = requireTool(t, 'openssl');
  if (!openssl) return;
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const tb = await createTestBroker(['alpha'], { tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  try {
    const port = tb.broker.ports.mqtts;
    assert.ok(port !== null && port > 0 && port !== tb.broker.ports.mqtt);
    const url = `mqtts://127.0.0.1:${port}`;
    const base = { clientId: 'alpha', username: 'alpha', reconnectPeriod: 0, ca: readFileSync(cert), servername: 'localhost' };
    const alpha = await connectAsync(url, { ...base, password: tb.secrets.alpha! }, false);
    assert.ok(alpha.connected);
    await alpha.endAsync();
    await assert.rejects(connectAsync(url, { ...base, password: 'wrong' }, false), /Bad username or password/);
    // Without the CA the client refuses the self-signed certificate.
    await assert.rejects(connectAsync(url, { clientId: 'alpha', username: 'alpha', password: tb.secrets.alpha!, reconnectPeriod: 0 }, false));
  } finally {
    await tb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
