/**
 * Issue 11 end to end with REAL agents: three agent processes at two locations watch capture
 * directories and publish their own per-minute traffic summaries (traffic.backfill, short settle),
 * a real collector learns the subnet map from them. Captures, all moved into the last half hour:
 *
 *   site-a / a1   generated traffic of site A's hosts (10.1.1.0/24, 10.1.2.0/24 VLAN 20, 2001:db8:a::/64)
 *   site-a / a2   the corpus' real `pcapplusplus/ExamplesTest/tls2.pcap` (192.168.0.17 and a /64 client)
 *   site-b / b1   generated traffic of site B's hosts (10.2.1.0/24, 10.2.2.0/24, 2001:db8:b::/64), whose
 *                 servers include two of tls2's real servers, plus the corpus' `DnsPackets.pcap`
 *
 * Both sites' clients talk to the same servers and DNS resolvers (shared external traffic), so those
 * subnets must come out `external`; each site's own subnets `learned` there. The expected map is
 * also derived independently from tshark's conversations by the documented rule (architecture.md
 * "Network"). The traffic endpoint's totals and pairs must equal tshark's: `-z conv,ip` and
 * `-z conv,ipv6` frames exactly and their (rounded) byte figures, with exact bytes from tshark's
 * per-frame `frame.len` (the wire length the agent counts); tshark's conv,ipv6 leaves out non-first
 * IPv6 fragments, which the agent counts, so those (tshark's own `ipv6.fraghdr.offset > 0` frames)
 * are added back. Then: search, a pin overriding learning, clear-cache, bad input, a viewer's 403.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isIPv4 } from 'node:net';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { DEFAULT_SERVERS, ipv6Bytes } from '@pcapmesh/shared/pcap/gen/hosts';
import { formatIpv6 } from '@pcapmesh/shared/pcap/decode';
import { pairKey, parseConversations, TSHARK_ARGS, tsharkSize } from '@pcapmesh/shared/pcap/analyze/tshark.fixture';
import { ageFiles } from './harness/job-fixtures.js';
import { JobWorld } from './harness/job-world.js';
import type { JobsClient } from './harness/jobs-api.js';
import { BACKENDS, eventually, integrationTest, pcapsDir, prepareBackend, requireTool } from './harness.js';

const TLS2 = 'pcapplusplus/ExamplesTest/tls2.pcap';
const DNS = 'pcapplusplus/Pcap++Test/DnsPackets.pcap';
/** Real servers of tls2.pcap that site B's generated clients also talk to. */
const TLS2_SERVERS = ['96.6.132.113', '151.101.65.69'];

interface Counted {
  packets: number;
  bytes: number;
}
interface Pair {
  src: string;
  dst: string;
  srcLocation: string | null;
  dstLocation: string | null;
  packets: number;
  bytes: number;
}
interface Traffic {
  totals: Counted;
  top: Pair[];
}
interface Subnet {
  subnet: string;
  state: string;
  location: string | null;
}

/** A canonical subnet of an address: /24 for IPv4, /64 for IPv6 (the agent's defaults). */
function subnetOf(addr: string): string {
  if (isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  const bytes = ipv6Bytes(addr);
  bytes.fill(0, 8);
  return `${formatIpv6(bytes, 0)}/64`;
}

const run = promisify(execFile);
const tshark = async (args: string[]): Promise<string> => (await run('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 })).stdout;

/**
 * tshark's view of some capture files: per unordered subnet pair, frames and exact bytes. Exact
 * figures come from tshark's per-frame fields (`frame.len`, outer addresses); each address pair of
 * `-z conv,ip` / `-z conv,ipv6` must agree with them (frames exactly, bytes as tshark prints them)
 * once non-first IPv6 fragments (which conv,ipv6 leaves out and the agent counts) are set aside.
 */
async function tsharkReference(files: readonly string[]): Promise<Map<string, Counted>> {
  const bySubnets = new Map<string, Counted>();
  for (const file of files) {
    const [fields, convText] = await Promise.all([
      tshark([
        '-r',
        file,
        ...TSHARK_ARGS,
        '-T',
        'fields',
        '-E',
        'occurrence=f',
        '-e',
        'frame.len',
        '-e',
        'ip.src',
        '-e',
        'ip.dst',
        '-e',
        'ipv6.src',
        '-e',
        'ipv6.dst',
        '-e',
        'ipv6.fraghdr.offset',
      ]),
      tshark(['-r', file, ...TSHARK_ARGS, '-q', '-z', 'conv,ip', '-z', 'conv,ipv6']),
    ]);
    const exact = new Map<string, Counted>();
    const later = new Map<string, Counted>();
    const add = (m: Map<string, Counted>, key: string, bytes: number) => {
      const row = m.get(key) ?? { packets: 0, bytes: 0 };
      m.set(key, { packets: row.packets + 1, bytes: row.bytes + bytes });
    };
    for (const line of fields.split('\n')) {
      const [len, s4, d4, s6, d6, fragOffset] = line.split('\t');
      const src = s4 || s6;
      const dst = d4 || d6;
      if (!len || !src || !dst) continue;
      add(exact, pairKey(src, dst), Number(len));
      if (s6 && Number(fragOffset) > 0) add(later, pairKey(src, dst), Number(len));
    }
    const convKeys = new Set<string>();
    for (const c of parseConversations(convText)) {
      const key = pairKey(c.a, c.b);
      convKeys.add(key);
      const ours = exact.get(key);
      const skip = later.get(key) ?? { packets: 0, bytes: 0 };
      assert.ok(ours, `${file}: conv pair ${key} not in tshark's frame fields`);
      assert.equal(ours.packets - skip.packets, c.frames, `${file} ${key}: frames`);
      assert.equal(tsharkSize(ours.bytes - skip.bytes), c.bytesText, `${file} ${key}: bytes`);
    }
    for (const [key, row] of exact) {
      // Only a pair made of later IPv6 fragments alone may be absent from conv,ipv6.
      if (!convKeys.has(key)) assert.equal(row.packets, later.get(key)?.packets, `${file}: pair ${key} missing from -z conv`);
      const [a, b] = key.split(' ') as [string, string];
      const sk = pairKey(subnetOf(a), subnetOf(b));
      const prev = bySubnets.get(sk) ?? { packets: 0, bytes: 0 };
      bySubnets.set(sk, { packets: prev.packets + row.packets, bytes: prev.bytes + row.bytes });
    }
  }
  return bySubnets;
}

/** Copies a corpus capture into `dir` with its first packet moved to `at` (editcap -t). */
function shiftedCopy(name: string, dir: string, at: number): string {
  const src = join(pcapsDir(), name);
  const first = Number(/First packet time:\s+([\d.]+)/.exec(spawnSync('capinfos', ['-a', '-S', src], { encoding: 'utf8' }).stdout)?.[1]);
  assert.ok(Number.isFinite(first), `capinfos of ${src}`);
  const out = join(dir, `real-${name.split('/').pop()}`);
  const r = spawnSync('editcap', ['-F', 'pcap', '-t', (at - Math.floor(first)).toString(), src, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const sum = (m: Map<string, Counted>): Counted =>
  [...m.values()].reduce((a, r) => ({ packets: a.packets + r.packets, bytes: a.bytes + r.bytes }), { packets: 0, bytes: 0 });
const files = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .map((f) => join(dir, f));

for (const backendName of BACKENDS) {
  integrationTest(
    `network with real agents: learned map, external, totals = tshark, search, pin, cache, bad input [${backendName}]`,
    async (scope) => {
      for (const tool of ['tshark', 'editcap', 'capinfos']) if (!requireTool(scope.t, tool)) return;
      const backend = await prepareBackend(scope, backendName);
      if (!backend) return;

      const base = Math.floor(Date.now() / 60_000) * 60 - 30 * 60; // seconds, a minute boundary half an hour ago
      const dirs = { a1: join(scope.dir, 'cap-a1'), a2: join(scope.dir, 'cap-a2'), b1: join(scope.dir, 'cap-b1') };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      writeRollingCaptures(
        dirs.a1,
        {
          seed: 11,
          bytes: 1_200_000,
          start: base + 0.25,
          duration: 600,
          nanosecond: true,
          hosts: ['10.1.1.10', '10.1.1.11', '10.1.2.20%20', '2001:db8:a::10', '2001:db8:a::11'],
        },
        300,
      );
      writeRollingCaptures(
        dirs.b1,
        {
          seed: 22,
          bytes: 1_200_000,
          start: base + 0.5,
          duration: 600,
          nanosecond: true,
          hosts: ['10.2.1.10', '10.2.1.11', '10.2.2.20%20', '2001:db8:b::10'],
          servers: [...DEFAULT_SERVERS, ...TLS2_SERVERS],
        },
        300,
      );
      shiftedCopy(TLS2, dirs.a2, base + 120);
      shiftedCopy(DNS, dirs.b1, base + 30);
      for (const d of Object.values(dirs)) ageFiles(d);

      const sites = { 'site-a': [...files(dirs.a1), ...files(dirs.a2)], 'site-b': files(dirs.b1) };
      // tshark reads the files while the collector and agents start.
      const references = Promise.all([tsharkReference(sites['site-a']), tsharkReference(sites['site-b'])]);
      references.catch(() => {}); // awaited below; a failure surfaces there
      const world = await JobWorld.start(scope, {
        backend,
        sensors: [
          { name: 'a1', location: 'site-a', directory: dirs.a1 },
          { name: 'a2', location: 'site-a', directory: dirs.a2 },
          { name: 'b1', location: 'site-b', directory: dirs.b1 },
        ],
        collectorConfig: { network: { learnIntervalSeconds: 5 } },
        agentConfig: { index: { settleSeconds: 1 }, traffic: { enabled: true, backfill: true } },
      });
      const [refA, refB] = await references;
      const reference = { 'site-a': refA, 'site-b': refB };
      const admin = world.jobs;
      const window = `from=${(base - 60) * 1000}&to=${(base + 30 * 60 + 120) * 1000}`;
      const traffic = (query: string, as: JobsClient = admin) => as.expect<Traffic>(200, 'GET', `/network/traffic?${window}&top=500&${query}`);

      // The summaries flow: each location's totals reach tshark's (and stay there: no double counting).
      for (const [location, ref] of Object.entries(reference)) {
        const want = sum(ref);
        assert.ok(want.bytes > 1_000_000, `${location}: a real amount of traffic`);
        await eventually(
          async () => {
            const t = await traffic(`location=${location}`);
            return t.totals.bytes === want.bytes && t.totals.packets === want.packets ? true : undefined;
          },
          { what: `${location}'s totals = tshark's ${JSON.stringify(want)}`, timeoutMs: 90_000 },
        );
      }
      await new Promise((r) => setTimeout(r, 3_000)); // anything late would now show as a difference
      for (const [location, ref] of Object.entries(reference)) {
        const t = await traffic(`location=${location}`);
        assert.deepEqual(t.totals, sum(ref), `${location}: totals`);
        assert.ok(t.top.length < 500, 'every pair listed');
        const ours = new Map<string, Counted>();
        for (const p of t.top) {
          const key = pairKey(p.src, p.dst);
          const row = ours.get(key) ?? { packets: 0, bytes: 0 };
          ours.set(key, { packets: row.packets + p.packets, bytes: row.bytes + p.bytes });
        }
        assert.deepEqual([...ours].sort(), [...ref].sort(), `${location}: per subnet pair = tshark`);
      }
      const all = await traffic('');
      assert.equal(all.totals.bytes, sum(reference['site-a']).bytes + sum(reference['site-b']).bytes);

      // The map, by the documented rule over tshark's pairs: local evidence = a pair only this site saw.
      const expected = new Map<string, [string, string | null]>();
      const subnets = new Set([...reference['site-a'].keys(), ...reference['site-b'].keys()].flatMap((k) => k.split(' ')));
      for (const s of subnets) {
        const local = (['site-a', 'site-b'] as const).filter((loc) => {
          const other = loc === 'site-a' ? reference['site-b'] : reference['site-a'];
          return [...reference[loc].keys()].some((k) => k.split(' ').includes(s) && !other.has(k));
        });
        expected.set(s, local.length === 1 ? ['learned', local[0]!] : local.length === 2 ? ['external', null] : ['ambiguous', null]);
      }
      // …and named outright, so the rule above cannot hide a mistake in both.
      const named: [string, string, string | null][] = [
        ['10.1.1.0/24', 'learned', 'site-a'],
        ['10.1.2.0/24', 'learned', 'site-a'],
        ['2001:db8:a::/64', 'learned', 'site-a'],
        ['192.168.0.0/24', 'learned', 'site-a'],
        ['2601:647:4b02:1d20::/64', 'learned', 'site-a'],
        ['10.2.1.0/24', 'learned', 'site-b'],
        ['10.2.2.0/24', 'learned', 'site-b'],
        ['2001:db8:b::/64', 'learned', 'site-b'],
        ['10.0.0.0/24', 'learned', 'site-b'],
        ...DEFAULT_SERVERS.map((s): [string, string, null] => [subnetOf(s), 'external', null]),
        ...TLS2_SERVERS.map((s): [string, string, null] => [subnetOf(s), 'external', null]),
        ['10.1.0.0/24', 'external', null], // the shared DNS resolver
      ];
      for (const [s, state, location] of named) assert.deepEqual(expected.get(s), [state, location], `rule over tshark's pairs for ${s}`);
      const want = [...expected].map(([s, [state, location]]) => [s, state, location]).sort();
      const map = async () =>
        (await admin.expect<{ subnets: Subnet[] }>(200, 'GET', '/network/subnets')).subnets.map((s) => [s.subnet, s.state, s.location]).sort();
      await eventually(async () => (JSON.stringify(await map()) === JSON.stringify(want) ? true : undefined), { what: 'the learned map', timeoutMs: 60_000 });

      // Search: an address's site and the sensors that saw it.
      const search = async (q: string) =>
        (
          await admin.expect<{ address: { location: string | null; subnet: { subnet: string } | null; sightings: { sensor: string }[]; jobRequest: unknown } }>(
            200,
            'GET',
            `/search?q=${encodeURIComponent(q)}`,
          )
        ).address;
      for (const [q, subnet, location, sensors] of [
        ['10.1.1.10', '10.1.1.0/24', 'site-a', ['a1']],
        ['192.168.0.17', '192.168.0.0/24', 'site-a', ['a2']],
        ['2001:db8:b::10', '2001:db8:b::/64', 'site-b', ['b1']],
        [DEFAULT_SERVERS[0]!, subnetOf(DEFAULT_SERVERS[0]!), null, ['a1', 'b1']],
        [TLS2_SERVERS[0]!, subnetOf(TLS2_SERVERS[0]!), null, ['a2', 'b1']],
      ] as const) {
        const found = await search(q);
        assert.equal(found.subnet?.subnet, subnet, q);
        assert.equal(found.location, location, q);
        assert.deepEqual(found.sightings.map((s) => s.sensor).sort(), sensors, q);
        assert.ok(found.jobRequest, q);
      }

      // Coordinates for the globe; bad input names the field; a viewer may read but not change.
      await admin.expect(200, 'PUT', '/admin/locations/site-a', { latitude: 52.37, longitude: 4.89, description: 'Amsterdam' });
      const locations = await admin.expect<{ locations: { name: string; latitude: number | null; sensors: string[]; bytes: number }[] }>(
        200,
        'GET',
        `/network/locations?${window}`,
      );
      assert.deepEqual(
        locations.locations.map((l) => [l.name, l.latitude, l.sensors, l.bytes]),
        [
          ['site-a', 52.37, ['a1', 'a2'], sum(reference['site-a']).bytes],
          ['site-b', null, ['b1'], sum(reference['site-b']).bytes],
        ],
      );
      const bad = async (method: string, path: string, field: string, body?: unknown) => {
        const r = await admin.request(method, path, body === undefined ? {} : { body });
        assert.equal(r.status, 400, `${method} ${path}`);
        assert.match(r.json<{ error: { message: string } }>().error.message, new RegExp(`^${field}: `), `${method} ${path}`);
      };
      const pin = (cidr: string) => `/admin/subnets/${encodeURIComponent(cidr)}`;
      await bad('PUT', pin('10.1.1.300/24'), 'cidr', { location: 'site-a' });
      await bad('PUT', pin('10.1.1.0/33'), 'cidr', { location: 'site-a' });
      await bad('PUT', pin('2001:db8:a::/129'), 'cidr', { location: 'site-a' });
      await bad('GET', `/network/traffic?subnet=${encodeURIComponent('10.1.1.0/40')}`, 'subnet');
      await bad('PUT', '/admin/locations/site-a', 'latitude', { latitude: 90.5 });
      await bad('PUT', '/admin/locations/site-a', 'longitude', { longitude: -181 });
      await bad('GET', `/network/traffic?from=${(base + 60) * 1000}&to=${base * 1000}`, 'from');
      await bad('GET', `/network/traffic?from=${(base - 32 * 86_400) * 1000}&to=${base * 1000}`, 'from');
      const viewer = await world.userClient('viewer1', 'viewer');
      assert.equal((await traffic('location=site-a', viewer)).totals.bytes, sum(reference['site-a']).bytes, 'a viewer reads');
      assert.equal((await viewer.request('PUT', pin('10.1.1.0/24'), { body: { location: 'site-b' } })).status, 403);
      assert.equal((await viewer.request('DELETE', pin('10.1.1.0/24'))).status, 403);
      assert.equal((await viewer.request('PUT', '/admin/locations/site-a', { body: { latitude: 1 } })).status, 403);
      assert.equal((await viewer.request('POST', '/network/locations/clear-cache')).status, 403);

      // A pin wins over learning (through learning passes) and shows in the pairs; unpinning restores it.
      const pinned = await admin.expect<Subnet>(200, 'PUT', pin('10.1.1.0/24'), { location: 'site-b' });
      assert.deepEqual([pinned.state, pinned.location], ['pinned', 'site-b']);
      // Read-your-write: one read right after the pin returned shows it (the location cache's
      // version, sql/0017), and so does one after a learning pass.
      const pinnedRow = ['10.1.1.0/24', 'pinned', 'site-b'];
      assert.deepEqual(
        (await map()).find((s) => s[0] === '10.1.1.0/24'),
        pinnedRow,
        'the map right after the pin',
      );
      await new Promise((r) => setTimeout(r, 6_000)); // at least one learning pass
      assert.deepEqual(
        (await map()).find((s) => s[0] === '10.1.1.0/24'),
        pinnedRow,
        'the map after a learning pass',
      );
      assert.ok(
        (await traffic('location=site-a&subnet=10.1.1.0%2F24')).top.every((p) => (p.src === '10.1.1.0/24' ? p.srcLocation : p.dstLocation) === 'site-b'),
      );
      await admin.expect(204, 'DELETE', pin('10.1.1.0/24'));
      assert.deepEqual(
        (await map()).find((s) => s[0] === '10.1.1.0/24'),
        ['10.1.1.0/24', 'learned', 'site-a'],
      );

      // clear-cache empties (a second finds nothing) and a read refills. A learning pass also drops the
      // cache every 5 s, so the refill is tried a few times; a refill that never caches fails.
      await admin.expect(200, 'POST', '/network/locations/clear-cache');
      assert.equal((await admin.expect<{ cleared: number }>(200, 'POST', '/network/locations/clear-cache')).cleared, 0);
      await eventually(
        async () => {
          await admin.expect(200, 'GET', '/network/subnets');
          await admin.expect(200, 'GET', '/network/locations');
          const { cleared } = await admin.expect<{ cleared: number }>(200, 'POST', '/network/locations/clear-cache');
          return cleared >= 2 ? true : undefined;
        },
        { what: 'the cache refilled by reads (map and locations)', timeoutMs: 20_000 },
      );
      assert.deepEqual(await map(), want, 'the map read again after clearing');
    },
    { timeoutMs: 300_000 },
  );
}
