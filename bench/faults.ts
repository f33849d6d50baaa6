/**
 * Long forms of the fault suite (issue 14): runs the test/faults files with FAULTS_LONG=1 (100,002
 * fuzz payloads, 10,000 mutated captures + 200 through the command, a 60 s PostgreSQL outage, a
 * 300 s broker outage, 500 sensors through a 30 s broker restart, the disk-full run, 3,000 GET /sensors of 1,000 sensors and 200 logins) one after another and prints each test's figures (its FAULT-FIGURE lines)
 * with the machine's load average. Timings depend on the load: compare within one run.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/faults.ts [mqtt-fuzz|captures|postgres-outage|broker-outage|fleet-restart|disk-full|http-load|attacks]...
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ALL = ['mqtt-fuzz', 'captures', 'postgres-outage', 'broker-outage', 'fleet-restart', 'disk-full', 'http-load', 'attacks'];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !ALL.includes(w));
if (unknown.length > 0) {
  console.error(`unknown fault test: ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
let failed = 0;
console.log('| test | result | figures |\n|---|---|---|');
for (const name of wanted.length > 0 ? wanted : ALL) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=pcapmesh-src', '--import', 'tsx', '--test', '--test-reporter=spec', join(root, 'test/faults', `${name}.test.ts`)],
    {
      cwd: root,
      env: { ...process.env, FAULTS_LONG: '1' },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const figures = [...r.stdout.matchAll(/^FAULT-FIGURE (.*)$/gm)].map((m) => m[1]);
  if (r.status !== 0) failed += 1;
  console.log(`| ${name} | ${r.status === 0 ? 'pass' : `FAIL (exit ${r.status ?? r.signal})`} | ${figures.join('<br>') || '-'} |`);
  if (r.status !== 0) console.error(r.stdout.split('\n').slice(-60).join('\n'));
}
process.exitCode = failed > 0 ? 1 : 0;
