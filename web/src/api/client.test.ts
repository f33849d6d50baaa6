// @vitest-environment node
/**
 * The API client against the collector's real HTTP app (Hono app over an in-memory PGlite, the
 * real SensorService and API-token verifier — collector/src/http/app.fixture.ts), reached through
 * `app.request` instead of a socket.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../../../collector/src/http/app.fixture.js';
import { ApiError, makeApiClient, type TokenSource } from './client.js';

let t: TestHttp;
beforeAll(async () => {
  t = await createTestHttp();
  await t.sensors.register({ name: 'edge-1', location: 'lab' });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

function clientWith(auth: TokenSource) {
  const calls: string[] = [];
  const api = makeApiClient({
    auth,
    base: 'http://collector.test/api/v1',
    fetch: async (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return t.app.request(String(input), init);
    },
  });
  return { api, calls };
}

describe('API client against the real collector app', () => {
  test('typed reads with the bearer token', async () => {
    const { api } = clientWith({ token: () => t.token, refresh: async () => false });
    const { sensors } = await api.sensors();
    expect(sensors.map((s) => s.name)).toEqual(['edge-1']);
    expect(sensors[0]?.location).toBe('lab');
    const one = await api.sensor('edge-1');
    expect(one.status).toBe('unknown');
    const { devices } = await api.devices('edge-1');
    expect(devices).toEqual([]);
    const series = await api.healthSeries('edge-1', new Date(Date.now() - 60_000), new Date(), 10);
    expect(series.points).toEqual([]);
  });

  test("errors carry the server's status, code and message", async () => {
    const { api } = clientWith({ token: () => t.token, refresh: async () => false });
    const missing = await api.sensor('no-such-sensor').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect((missing as Error).message).toMatch(/no-such-sensor/);
    const bad = await api.sensor('Bad Name!').catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'invalid' });
  });

  test('a 401 triggers one refresh and one retry with the new token', async () => {
    let token = 'pmt_expired-token-expired-token';
    let refreshes = 0;
    const { api, calls } = clientWith({
      token: () => token,
      refresh: async () => {
        refreshes += 1;
        token = t.token;
        return true;
      },
    });
    const { sensors } = await api.sensors();
    expect(sensors).toHaveLength(1);
    expect(refreshes).toBe(1);
    expect(calls.filter((c) => c.endsWith('/sensors'))).toHaveLength(2);
  });

  test('when the refresh fails, the 401 surfaces and nothing loops', async () => {
    let refreshes = 0;
    const { api, calls } = clientWith({
      token: () => 'pmt_wrong-token-wrong-token-wrong',
      refresh: async () => {
        refreshes += 1;
        return false;
      },
    });
    await expect(api.summary()).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(refreshes).toBe(1);
    expect(calls).toHaveLength(1);
  });

  test("login with wrong credentials is refused with the server's error", async () => {
    const { api } = clientWith({ token: () => null, refresh: async () => false });
    const err = await api.login('analyst1', 'not the password').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([401, 404]).toContain((err as ApiError).status);
  });

  test('login, then /me with the access token', async () => {
    const { api } = clientWith({ token: () => null, refresh: async () => false });
    const result = await api.login('analyst1', USER_PASSWORD);
    expect(result.user).toEqual({ username: 'analyst1', role: 'analyst' });
    expect(result.expiresIn).toBeGreaterThan(0);
    const { api: signedIn } = clientWith({ token: () => result.accessToken, refresh: async () => false });
    expect(await signedIn.me()).toEqual({ id: expect.stringMatching(/^user:\d+$/), username: 'analyst1', role: 'analyst', kind: 'user' });
    expect((await signedIn.sensors()).sensors.map((s) => s.name)).toEqual(['edge-1']);
  });

  test('an unreachable collector is a network error naming the request', async () => {
    const api = makeApiClient({
      auth: { token: () => null, refresh: async () => false },
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const err = await api.health().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'network' });
    expect((err as Error).message).toMatch(/GET \/health: the collector cannot be reached/);
    expect((err as Error).cause).toBeInstanceOf(TypeError);
  });
});
