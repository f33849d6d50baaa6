/**
 * The job tests' own tools, checked before anything relies on them:
 * - the cutting proxy forwards bytes unchanged, cuts where it is told (on command, after N bytes,
 *   at seeded random points that repeat with the seed) and counts every cut;
 * - the fixture's reference (tcpdump + mergecap + editcap, see harness/job-fixtures.ts) and the PCAP
 *   library's extract + merge --dedup select the same packets, in either merge order — so a job's
 *   result that differs from the reference is the job's fault, not the yardstick's.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { extract } from '@pcapmesh/shared/pcap/extract';
import { mergeCaptures } from '@pcapmesh/shared/pcap/merge';
import { integrationTest, requireTool, type TestScope } from './harness.js';
import { CuttingProxy } from './harness/cutting-proxy.js';
import { FIXTURE_START, buildOverlappingSensors, firstDifference, readPackets, referenceExtract } from './harness/job-fixtures.js';

/** A TCP server that answers each connection, once the client half-closes, with the SHA-256 of what it received. */
async function hashServer(scope: TestScope): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('data', (chunk) => hash.update(chunk));
    socket.on('end', () => socket.end(hash.digest('hex')));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** Sends `body` through the proxy; resolves with the server's answer, or null when the connection was cut. */
function send(port: number, body: Buffer): Promise<string | null> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    let failed = false;
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('error', () => (failed = true));
    socket.on('close', () => resolve(failed || answer.length !== 64 ? null : answer));
    socket.end(body);
  });
}

const body = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

integrationTest('jobs harness: the cutting proxy forwards unchanged and cuts where told, counting each cut', async (scope) => {
  const port = await hashServer(scope);
  const proxy = await CuttingProxy.start(scope, { port });

  const big = body(3 << 20, 1);
  assert.equal(await send(proxy.port, big), sha(big), 'bytes through an uncut proxy arrive unchanged');
  assert.equal(proxy.cuts, 0);

  proxy.cutAfter(100_000);
  assert.equal(await send(proxy.port, big), null, 'a connection past the armed byte count is cut');
  assert.equal(proxy.cuts, 1);
  assert.equal(await send(proxy.port, big), sha(big), 'the armed cut is one-shot');

  // cutAll: idle connections, cut on command.
  const idle = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect({ port: proxy.port, host: '127.0.0.1' }, () => resolve(s));
          s.on('error', () => undefined);
        }),
    ),
  );
  const closed = idle.map((s) => new Promise<void>((resolve) => s.on('close', () => resolve())));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(proxy.cutAll(), 3);
  await Promise.all(closed);
  assert.equal(proxy.cuts, 4);

  // Random cuts: exactly the planned number, gaps in range, the same positions for the same seed.
  const positions: number[][] = [];
  for (const attempt of [0, 1]) {
    const p = await CuttingProxy.start(scope, { port });
    p.cutRandomly({ cuts: 5, minGapBytes: 20_000, maxGapBytes: 200_000, seed: 42 });
    let answers = 0;
    for (let i = 0; p.randomCutsLeft > 0 && i < 100; i++) if ((await send(p.port, body(150_000, i))) !== null) answers++;
    assert.equal(p.cuts, 5, `attempt ${attempt}: cuts`);
    const gaps = p.cutPositions.map((at, i) => at - (p.cutPositions[i - 1] ?? 0));
    assert.ok(
      gaps.every((g) => g >= 20_000 && g < 200_000),
      `gaps ${gaps}`,
    );
    const after = body(500_000, 9);
    assert.equal(await send(p.port, after), sha(after), 'after the last planned cut the proxy forwards untouched');
    assert.ok(answers > 0, 'some connections got through between cuts');
    positions.push(p.cutPositions);
  }
  assert.deepEqual(positions[0], positions[1], 'the same seed cuts at the same byte positions');
});

integrationTest('jobs harness: the reference tools and the library agree on the overlapping sensors fixture', async (scope) => {
  for (const tool of ['tcpdump', 'mergecap', 'editcap']) if (!requireTool(scope.t, tool)) return;
  const sensors = buildOverlappingSensors(join(scope.dir, 'sensors'));
  const filter = 'tcp port 443 or udp port 53';
  const window = { from: { sec: FIXTURE_START + 60, nsec: 500_000_000 }, to: { sec: FIXTURE_START + 480, nsec: 0 } };
  const reference = referenceExtract(sensors, filter, window, scope.dir);
  assert.ok(reference.duplicates > 500, `the fixture must make dedup matter: ${reference.duplicates} duplicates`);
  assert.ok(reference.packets.length > 5000, `${reference.packets.length} packets`);

  const parts: string[] = [];
  for (const s of sensors) {
    const output = join(scope.dir, `${s.name}.pcap`);
    await extract({ inputs: [s.directory], output, filter, from: window.from, to: window.to, workers: 0 });
    parts.push(output);
  }
  for (const order of [parts, [...parts].reverse()]) {
    const merged = join(scope.dir, 'merged.pcap');
    const stats = mergeCaptures(order, merged, { dedup: true });
    assert.equal(stats.duplicates, reference.duplicates, 'duplicates removed: merge vs editcap -w 0.001');
    assert.equal(firstDifference(readPackets(merged), reference.packets), null);
  }
});
