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
import { clientAddress } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { sensorParams } from '../params.js';
import { EnrolmentTokenSchema, IntegrationCreatedSchema, IntegrationViewSchema, SensorCreatedSchema, SensorSecretSchema } from './admin.schemas.js';
import type { RouteTools } from './tools.js';

const expiresInHours = z.number().int().min(1).max(720).default(24);
const NAME = 'a-z, 0-9, ".", "_", "-"; 1-63 characters';

export const createSensorBody = z
  .strictObject({
    name: z.string().max(63).describe(`sensor name: ${NAME}, starting with a letter or digit`),
    location: z.string().min(1).max(256).optional(),
    expiresInHours,
  })
  .meta({ id: 'SensorCreate' });
export const enrolmentBody = z.strictObject({ expiresInHours }).meta({ id: 'EnrolmentRequest' });
export const enrollBody = z
  .strictObject({ token: z.string().min(1).max(128).describe('the one-time enrolment token (pme_…) an admin was given') })
  .meta({ id: 'EnrolRequest' });
export const integrationBody = z.strictObject({ name: z.string().max(63).describe(`${NAME} (checked by the server)`) }).meta({ id: 'IntegrationCreate' });
const integrationParams = z.object({ name: sensorParams.shape.name.describe(`integration name: ${NAME}`) });

export const createSensor = defineOperation({
  method: 'post',
  path: '/admin/sensors',
  id: 'createSensor',
  tag: 'admin-sensors',
  permission: 'admin',
  summary: 'Register a sensor and get its one-time enrolment token (audited)',
  description: 'On the sensor: `pcapmesh-agent enroll --collector URL --token pme_…` redeems the token at POST /enroll.',
  body: { schema: createSensorBody },
  responses: { 201: { description: 'created', schema: SensorCreatedSchema } },
  errors: [400, 409],
});

export const issueEnrolmentToken = defineOperation({
  method: 'post',
  path: '/admin/sensors/{name}/enrolment',
  id: 'issueEnrolmentToken',
  tag: 'admin-sensors',
  permission: 'admin',
  summary: 'A new one-time enrolment token for an existing sensor (re-enrol; audited)',
  params: sensorParams,
  body: { schema: enrolmentBody },
  responses: { 201: { description: 'the token', schema: EnrolmentTokenSchema } },
  errors: [400, 404],
});

export const rotateSensorSecret = defineOperation({
  method: 'post',
  path: '/admin/sensors/{name}/rotate',
  id: 'rotateSensorSecret',
  tag: 'admin-sensors',
  permission: 'admin',
  summary: 'A new secret for a sensor; the old one dies and the sensor is disconnected at once (audited)',
  params: sensorParams,
  responses: { 200: { description: 'the new secret (shown once)', schema: SensorSecretSchema } },
  errors: [400, 404],
});

export const revokeSensorSecret = defineOperation({
  method: 'post',
  path: '/admin/sensors/{name}/revoke',
  id: 'revokeSensorSecret',
  tag: 'admin-sensors',
  permission: 'admin',
  summary: 'No secret works any more; the sensor is disconnected at once (audited)',
  params: sensorParams,
  responses: { 204: { description: 'done (no body)' } },
  errors: [400, 404],
});

export const enroll = defineOperation({
  method: 'post',
  path: '/enroll',
  id: 'enroll',
  tag: 'enrolment',
  permission: 'public',
  summary: 'A sensor exchanges its one-time enrolment token for its secret',
  description:
    'The token is the credential (single use; expires). `pcapmesh-agent enroll` calls this. Failed redemptions are counted per source address ' +
    'like failed logins (auth.maxFailuresPerUser within auth.lockoutSeconds): beyond that, 429 + Retry-After; only the lockout is audited.',
  body: { schema: enrollBody },
  responses: { 200: { description: 'the sensor’s name and MQTT secret (shown once)', schema: SensorSecretSchema } },
  errors: [400, 401, 429],
});

export const listIntegrations = defineOperation({
  method: 'get',
  path: '/admin/integrations',
  id: 'listIntegrations',
  tag: 'admin-integrations',
  permission: 'admin',
  summary: 'Every MQTT integration account',
  responses: { 200: { description: 'the accounts', schema: z.strictObject({ integrations: z.array(IntegrationViewSchema) }) } },
});

export const createIntegration = defineOperation({
  method: 'post',
  path: '/admin/integrations',
  id: 'createIntegration',
  tag: 'admin-integrations',
  permission: 'admin',
  summary: 'Create a read-only MQTT account integration:<name> for events/# (audited)',
  body: { schema: integrationBody },
  responses: { 201: { description: 'created; the secret is shown once', schema: IntegrationCreatedSchema } },
  errors: [400, 409],
});

export const deleteIntegration = defineOperation({
  method: 'delete',
  path: '/admin/integrations/{name}',
  id: 'deleteIntegration',
  tag: 'admin-integrations',
  permission: 'admin',
  summary: 'Delete an integration account and disconnect its clients (audited)',
  params: integrationParams,
  responses: { 204: { description: 'done (no body)' } },
  errors: [400, 404],
});

export function adminSensorRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrolment, integrations } = deps.fleet;

  route(app, createSensor, async (c, { body, reply }) => reply(201, await enrolment.createSensor(body, actorOf(c))));

  route(app, issueEnrolmentToken, async (c, { params: { name }, body, reply }) => {
    const token = await enrolment.issueToken(name, body.expiresInHours, actorOf(c).actor);
    await deps.accounts.audit.record({ ...actorOf(c), action: 'sensor.enrolment', target: name, outcome: 'ok' });
    return reply(201, token);
  });

  route(app, rotateSensorSecret, async (c, { params: { name }, reply }) => reply(200, { sensor: name, secret: await enrolment.rotate(name, actorOf(c)) }));

  route(app, revokeSensorSecret, async (c, { params: { name }, reply }) => {
    await enrolment.revoke(name, actorOf(c));
    return reply(204);
  });

  route(app, enroll, async (c, { body, reply }) => reply(200, await enrolment.enroll(body.token, clientAddress(c))));

  route(app, listIntegrations, async (_c, { reply }) => reply(200, { integrations: await integrations.list() }));

  route(app, createIntegration, async (c, { body, reply }) => reply(201, await integrations.create(body.name, actorOf(c))));

  route(app, deleteIntegration, async (c, { params: { name }, reply }) => {
    await integrations.remove(name, actorOf(c));
    return reply(204);
  });

  return app;
}
