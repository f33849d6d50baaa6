/** `pcapmesh sensor add NAME --location LOC`: registers a sensor and prints its secret once. */
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
    process.stdout.write(
      `registered sensor ${sensor.name}${sensor.location ? ` (location ${sensor.location})` : ''}\n` +
        `secret: ${secret}\n` +
        `The secret is shown only this once: put it in the agent's mqtt.password (PCAPMESH_AGENT_MQTT__PASSWORD).\n`,
    );
  });
}
