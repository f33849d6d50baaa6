import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { buildManifest, MANIFEST_KEY_SECRET_NAME, ManifestSigner, verifyEvidence, type ManifestInput } from './manifest.js';
import { sha256 } from './results.fixture.js';

let db: Db;
let dir: string;
let signer: ManifestSigner;
const merged = randomBytes(5000);
const sensorFile = randomBytes(3000);
let mergedPath: string;
let sensorPath: string;

const input = (): ManifestInput => ({
  job: {
    id: '0b7e6f5c-1f0a-4d7e-9b1e-3c3a9f2d8e01',
    name: 'incident 42',
    owner: 'analyst1',
    windowFrom: new Date('2026-03-01T10:00:00Z'),
    windowTo: new Date('2026-03-01T10:05:00Z'),
    windowNs: { from: '1772359200000000000', to: '1772359500000000001' },
    filterExpression: 'tcp port 443',
    createdAt: new Date('2026-03-01T10:06:00Z'),
  },
  status: 'partial',
  completedAt: new Date('2026-03-01T10:09:00Z'),
  tasks: [
    {
      id: 'edge-1-0b7e',
      sensor: 'edge-1',
      status: 'done',
      packets: 10,
      bytes: 2000,
      fileBytes: sensorFile.length,
      sha256: sha256(sensorFile),
      truncated: null,
      complete: true,
    },
    {
      id: 'edge-2-0b7e',
      sensor: 'edge-2',
      status: 'failed',
      packets: 7,
      bytes: 100,
      fileBytes: 400,
      sha256: 'ab'.repeat(32),
      truncated: null,
      complete: false,
    },
  ],
  merged: {
    fileName: 'pcapmesh-0b7e6f5c-20260301T100000Z-20260301T100500Z.pcap',
    fileBytes: merged.length,
    sha256: sha256(merged),
    packets: 10,
    duplicatesRemoved: 0,
  },
  version: '9.9.9',
});

before(async () => {
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  signer = await ManifestSigner.open({ db });
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-manifest-'));
  mergedPath = join(dir, 'merged.pcap');
  sensorPath = join(dir, 'edge-1.pcap');
  writeFileSync(mergedPath, merged);
  writeFileSync(sensorPath, sensorFile);
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.close();
});

test('the manifest names the job, its window with nanoseconds, each sensor (no hash without a verified result) and the software', () => {
  const m = buildManifest(input());
  assert.equal(m.type, 'pcapmesh.evidence');
  assert.deepEqual(m.window, { from: '2026-03-01T10:00:00.000Z', to: '2026-03-01T10:05:00.000Z', fromNs: '1772359200000000000', toNs: '1772359500000000001' });
  assert.equal(m.requester, 'analyst1');
  assert.deepEqual(m.sensors[1], {
    sensor: 'edge-2',
    task: 'edge-2-0b7e',
    status: 'failed',
    packets: 0,
    bytes: 0,
    fileBytes: 0,
    sha256: null,
    truncated: null,
  });
  assert.deepEqual(m.software, { name: 'pcapmesh', version: '9.9.9' });
});

test('a signed manifest verifies offline with the public JWK Set, against the merged file or a sensor’s file', async () => {
  const jws = await signer.sign(buildManifest(input()));
  const jwks = signer.publicJwks();
  assert.deepEqual(Object.keys(jwks.keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x'], 'the public half only');
  const onMerged = await verifyEvidence(jws, mergedPath, JSON.parse(JSON.stringify(jwks)));
  assert.deepEqual(onMerged.problems, []);
  assert.equal(onMerged.ok, true);
  assert.deepEqual(onMerged.matched, { kind: 'merged' });
  assert.equal(onMerged.keyId, signer.keyId);
  const onSensor = await verifyEvidence(jws, sensorPath, jwks);
  assert.equal(onSensor.ok, true);
  assert.deepEqual(onSensor.matched, { kind: 'sensor', sensor: 'edge-1', task: 'edge-1-0b7e' });
});

test('the key pair is kept: a second opener signs with the same key; the private key is stored, never served', async () => {
  const again = await ManifestSigner.open({ db });
  assert.equal(again.keyId, signer.keyId);
  const jws = await again.sign(buildManifest(input()));
  assert.equal((await verifyEvidence(jws, mergedPath, signer.publicJwks())).ok, true);
  const [row] = await db.query<{ value: string }>('SELECT value FROM auth_secrets WHERE name = $1', [MANIFEST_KEY_SECRET_NAME]);
  const stored = JSON.parse(row!.value) as { d?: string };
  assert.ok(typeof stored.d === 'string' && !JSON.stringify(signer.publicJwks()).includes(stored.d));
});

test('a tampered file fails with file-hash; a tampered JWS with signature; another key, no key, junk each named', async () => {
  const jws = await signer.sign(buildManifest(input()));
  const jwks = signer.publicJwks();
  const tamperedFile = join(dir, 'tampered.pcap');
  const bytes = Buffer.from(merged);
  bytes[100] = (bytes[100]! + 1) & 0xff;
  writeFileSync(tamperedFile, bytes);
  const onTampered = await verifyEvidence(jws, tamperedFile, jwks);
  assert.equal(onTampered.ok, false);
  assert.deepEqual(
    onTampered.problems.map((p) => p.code),
    ['file-hash'],
  );
  assert.match(onTampered.problems[0]!.message, /neither the merged capture .* nor any sensor's result/);

  const [h, p, s] = jws.split('.') as [string, string, string];
  const altered = JSON.parse(Buffer.from(p, 'base64url').toString()) as { requester: string };
  altered.requester = 'someone else';
  const forged = `${h}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${s}`;
  const onForged = await verifyEvidence(forged, mergedPath, jwks);
  assert.equal(onForged.ok, false);
  assert.deepEqual(
    onForged.problems.map((x) => x.code),
    ['signature'],
  );
  assert.match(onForged.problems[0]!.message, /does not verify/);
  assert.equal(onForged.manifest?.requester, 'someone else', 'the payload is still shown, marked unverified');

  const other = await ManifestSigner.fromPrivateJwk(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
  const onOtherKey = await verifyEvidence(jws, mergedPath, other.publicJwks());
  assert.deepEqual(
    onOtherKey.problems.map((x) => x.code),
    ['signature'],
  );
  assert.match(onOtherKey.problems[0]!.message, /no key in the given key set matches/);

  const noKey = await verifyEvidence(jws, mergedPath);
  assert.equal(noKey.ok, false);
  assert.deepEqual(
    noKey.problems.map((x) => x.code),
    ['no-key'],
  );

  const junk = await verifyEvidence('not-a-jws', join(dir, 'missing.pcap'), jwks);
  assert.deepEqual(
    junk.problems.map((x) => x.code),
    ['format', 'file'],
  );
  assert.equal(junk.ok, false);
});
