// @vitest-environment node
/**
 * The new-job form's live validation (createJobValidation) against the collector's real HTTP app,
 * its real jobs stack and filter parser: the 400 of a dry run lands on the field it names, a filter
 * error with the 0-based position of the bad token; what the browser can judge (a port, an empty
 * target list, a reversed window) is refused before any request; a good request yields the plan;
 * an older answer never overwrites a newer check.
 */
import { createRoot } from 'solid-js';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createTestHttp, type TestHttp } from '../../../collector/src/http/app.fixture.js';
import { makeApiClient, type ApiClient } from '../api/client.js';
import { buildJobRequest, createJobValidation, type JobFields, type Validation } from './job-new.data.js';

let t: TestHttp;
let api: ApiClient;

beforeAll(async () => {
  t = await createTestHttp();
  await t.sensors.register({ name: 'edge-1', location: 'lab' });
  api = makeApiClient({
    auth: { token: () => t.token, refresh: async () => false },
    base: 'http://collector.test/api/v1',
    fetch: async (input, init) => t.app.request(String(input), init),
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const base: JobFields = {
  name: '',
  filterMode: 'expression',
  expression: '',
  hosts: '',
  nets: '',
  ports: '',
  protocol: '',
  direction: 'either',
  from: Date.parse('2026-03-10T11:45:00Z'),
  to: Date.parse('2026-03-10T12:00:00Z'),
  targetMode: 'sensors',
  sensors: ['edge-1'],
  locations: [],
};

/** Runs one check and waits for its settled answer (not 'checking'). */
async function validate(fields: Partial<JobFields>, client: Pick<ApiClient, 'dryRunJob'> = api): Promise<Validation> {
  return createRoot(async (dispose) => {
    const v = createJobValidation({ api: client as ApiClient }, 1);
    v.check({ ...base, ...fields });
    await vi.waitFor(() => expect(v.validation().state).not.toBe('checking'), { timeout: 10_000 });
    const result = v.validation();
    dispose();
    return result;
  });
}

test('a bad expression: the filter field, with the position of the bad token', async () => {
  const bad = 'host 10.1.2.3 and tcp port xx';
  const r = await validate({ expression: bad });
  expect(r.state).toBe('invalid');
  if (r.state !== 'invalid') return;
  expect(r.field).toBe('filter');
  expect(r.message).toMatch(/^filter: at \d+: /);
  expect(bad.slice(r.position!)).toBe('xx');
});

test('structured: a CIDR among hosts is refused by the collector under the filter; a port that is no number before any request', async () => {
  const cidr = await validate({ filterMode: 'structured', hosts: '10.0.0.0/8' });
  expect(cidr).toMatchObject({ state: 'invalid', field: 'filter', position: null });
  expect((cidr as { message: string }).message).toContain('10.0.0.0/8');

  const dryRunJob = vi.fn(api.dryRunJob);
  const port = await validate({ filterMode: 'structured', ports: '443 8o8o' }, { dryRunJob });
  expect(port).toEqual({ state: 'invalid', field: 'filter', message: 'ports: "8o8o" is not a port (0-65535)', position: null });
  const window = await validate({ from: base.to, to: base.from }, { dryRunJob });
  expect(window).toMatchObject({ state: 'invalid', field: 'window' });
  const targets = await validate({ sensors: [] }, { dryRunJob });
  expect(targets).toMatchObject({ state: 'invalid', field: 'targets', message: 'targets: choose at least one sensor' });
  expect(dryRunJob).not.toHaveBeenCalled();
});

test('an unknown sensor lands on the targets field; a window over the maximum on the window field', async () => {
  expect(await validate({ sensors: ['edge-9'] })).toMatchObject({ state: 'invalid', field: 'targets' });
  expect(await validate({ from: base.to - 30 * 86_400_000 })).toMatchObject({ state: 'invalid', field: 'window' });
});

test('a good request: the plan, one entry per target, with the canonical filter', async () => {
  const r = await validate({ filterMode: 'structured', hosts: '10.1.2.3', ports: '443', protocol: 'tcp', direction: 'dst' });
  expect(r.state).toBe('ok');
  if (r.state !== 'ok') return;
  expect(r.plan.sensors.map((s) => s.sensor)).toEqual(['edge-1']);
  expect(r.plan.sensors[0]!.coverage.fraction).toBe(0);
  expect(r.plan.filter).toMatch(/10\.1\.2\.3/);
  expect(buildJobRequest({ ...base, filterMode: 'structured', hosts: '10.1.2.3', ports: '443', protocol: 'tcp', direction: 'dst' }).filter).toEqual({
    hosts: ['10.1.2.3'],
    ports: [443],
    protocol: 'tcp',
    direction: 'dst',
  });
});

test('only the latest check counts: a slow answer to an older one is dropped', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: Pick<ApiClient, 'dryRunJob'> = {
    dryRunJob: async (body) => {
      if ('expression' in body.filter && body.filter.expression === 'tcp port xx') await gate;
      return api.dryRunJob(body);
    },
  };
  await createRoot(async (dispose) => {
    const v = createJobValidation({ api: slow as ApiClient }, 1);
    v.check({ ...base, expression: 'tcp port xx' });
    await new Promise((r) => setTimeout(r, 20));
    v.check({ ...base, expression: 'tcp port 443' });
    await vi.waitFor(() => expect(v.validation().state).toBe('ok'), { timeout: 10_000 });
    release();
    await new Promise((r) => setTimeout(r, 200));
    expect(v.validation().state).toBe('ok');
    dispose();
  });
});
