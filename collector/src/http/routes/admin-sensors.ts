/**
 * Sensor enrolment and secrets, and MQTT integration accounts:
 *
 *   POST   /admin/sensors                     (admin)  { name, location?, expiresInHours? (1–720, default 24) }
 *                                                      → 201 { sensor, enrolment: { token, expiresAt } }
 *   POST   /admin/sensors/:name/enrolment     (admin)  { expiresInHours? } → 201 { token, expiresAt }  (re-enrol)
 *   POST   /admin/sensors/:name/rotate        (admin)  → { sensor, secret }   old secret dead, sensor disconnected
 *   POST   /admin/sensors/:name/revoke        (admin)  → 204                  no secret works, sensor disconnected
 *   POST   /enroll                            (public, the token is the credential) { token } → { sensor, secret }
 *   GET    /admin/integrations                (admin)  { integrations: IntegrationView[] }
 *   POST   /admin/integrations                (admin)  { name } → 201 { name, username, secret, ... } (secret shown once)
 *   DELETE /admin/integrations/:name          (admin)  → 204, its MQTT clients disconnected
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../actor.js';
import { clientAddress, jsonBody } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { sensorParams } from '../params.js';
import type { RouteTools } from './tools.js';

const expiresInHours = z.number().int().min(1).max(720).default(24);
export const createSensorBody = z.strictObject({ name: z.string().max(63), location: z.string().min(1).max(256).optional(), expiresInHours });
export const enrolmentBody = z.strictObject({ expiresInHours });
export const enrollBody = z.strictObject({ token: z.string().min(1).max(128) });
export const integrationBody = z.strictObject({ name: z.string().max(63) });

export function adminSensorRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrolment, integrations } = deps.fleet;

  app.post('/admin/sensors', permit('admin'), async (c) => {
    const body = await jsonBody(c, createSensorBody);
    return c.json(await enrolment.createSensor(body, actorOf(c)), 201);
  });

  app.post('/admin/sensors/:name/enrolment', permit('admin'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    const { expiresInHours: hours } = await jsonBody(c, enrolmentBody);
    const token = await enrolment.issueToken(name, hours, actorOf(c).actor);
    await deps.accounts.audit.record({ ...actorOf(c), action: 'sensor.enrolment', target: name, outcome: 'ok' });
    return c.json(token, 201);
  });

  app.post('/admin/sensors/:name/rotate', permit('admin'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    return c.json({ sensor: name, secret: await enrolment.rotate(name, actorOf(c)) });
  });

  app.post('/admin/sensors/:name/revoke', permit('admin'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    await enrolment.revoke(name, actorOf(c));
    return c.body(null, 204);
  });

  app.post('/enroll', permit('public'), async (c) => {
    const { token } = await jsonBody(c, enrollBody);
    return c.json(await enrolment.enroll(token, clientAddress(c)));
  });

  app.get('/admin/integrations', permit('admin'), async (c) => c.json({ integrations: await integrations.list() }));

  app.post('/admin/integrations', permit('admin'), async (c) => {
    const { name } = await jsonBody(c, integrationBody);
    return c.json(await integrations.create(name, actorOf(c)), 201);
  });

  app.delete('/admin/integrations/:name', permit('admin'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    await integrations.remove(name, actorOf(c));
    return c.body(null, 204);
  });

  return app;
}
