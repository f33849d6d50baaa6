/**
 * `pcapmesh sensor add NAME --location LOC`: registers a sensor and prints its secret once. With
 * `mqtt.accounts: dynamic-security` the secret is also set at the broker (its account created, as
 * enrolment does) before it is printed; when the broker does not take it the command fails saying
 * so (the sensor stays registered: rotate it once the broker answers).
 */
import { DynsecAccounts } from '../broker/dynsec-accounts.js';
import { openDynsecClient } from '../broker/dynsec-client.js';
import { DomainEvents } from '../domain/events.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { migrate } from '../storage/migrate.js';
import type { CliContext } from './context.js';
import { withDb } from './db.js';

export async function sensorAdd(ctx: CliContext, name: string, location: string | undefined): Promise<void> {
  await withDb(ctx, async (db) => {
    await migrate(db);
    const sensors = new SensorService({
      db,
      events: new DomainEvents(),
      log: ctx.log.child({ component: 'sensors' }),
      heartbeatTimeoutSeconds: ctx.config.ingest.heartbeatTimeoutSeconds,
    });
    const { sensor, secret } = await sensors.register(location === undefined ? { name } : { name, location });
    await setAtBroker(ctx, sensor.name, secret);
    process.stdout.write(
      `registered sensor ${sensor.name}${sensor.location ? ` (location ${sensor.location})` : ''}\n` +
        `secret: ${secret}\n` +
        `The secret is shown only this once: put it in the agent's mqtt.password (PCAPMESH_AGENT_MQTT__PASSWORD).\n`,
    );
  });
}

async function setAtBroker(ctx: CliContext, name: string, secret: string): Promise<void> {
  const { mqtt } = ctx.config;
  if (mqtt.accounts !== 'dynamic-security' || mqtt.url === undefined || mqtt.username === undefined) return;
  try {
    const client = await openDynsecClient({
      url: mqtt.url,
      username: mqtt.username,
      password: mqtt.password,
      clientId: `pcapmesh-cli-${process.pid}`,
      log: ctx.log,
    });
    try {
      await new DynsecAccounts(client, ctx.log.child({ component: 'dynsec' }), mqtt.username).setSensorSecret(name, secret);
    } finally {
      await client.close();
    }
  } catch (err) {
    throw new Error(
      `registered sensor ${name}, but its account at the MQTT broker was not set (${err instanceof Error ? err.message : String(err)}): ` +
        `rotate it once the broker answers (POST /api/v1/admin/sensors/${name}/rotate)`,
      { cause: err },
    );
  }
}
