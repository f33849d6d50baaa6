/**
 * Response schemas of routes/health.ts (and the broker status admin-system.ts reports too).
 */
import { z } from 'zod';
import type { BrokerStatus } from '../../broker/transport.js';
import { INGEST_KINDS, REJECT_REASONS } from '../../domain/ingest-stats.js';
import { SENSOR_STATUSES } from '../../domain/sensors/sensors.types.js';
import { counts, int, mirrors, oneOf, orNull, time } from '../openapi/kit.js';

export const HealthSchema = z
  .strictObject({
    status: z.literal('ok'),
    version: z.string(),
    time: time.describe('the collector clock (agents measure their offset against it)'),
  })
  .meta({ id: 'Health' });

export const BrokerStatusSchema = mirrors<BrokerStatus>()(
  z
    .strictObject({
      mode: oneOf(['embedded', 'external']),
      clients: int.describe('connected MQTT clients (embedded), or 1/0 for the collector connection (external)'),
      ok: z.boolean(),
      limits: z
        .strictObject({
          oversized: int.describe('connections closed for a packet over its size limit'),
          retain: int.describe('publishes refused for retaining outside state and pcap'),
          task: int.describe("task statuses refused: another sensor's task"),
          connections: int.describe('connections refused: too many open from one address'),
          logins: int.describe('CONNECTs refused: too many failed logins from one address'),
          busy: int.describe('CONNECTs answered CONNACK 3: over the connect rate (mqtt.connectRate)'),
        })
        .optional()
        .describe('refusals by limit since start (embedded broker)'),
    })
    .meta({ id: 'BrokerStatus' }),
);

export const HealthSummarySchema = z
  .strictObject({
    sensors: counts(SENSOR_STATUSES).describe('sensors per status'),
    ingest: z.strictObject({
      since: time,
      accepted: counts(INGEST_KINDS).describe('messages applied, by kind'),
      rejected: counts(REJECT_REASONS).describe('messages refused, by reason'),
      acceptedTotal: int,
      rejectedTotal: int,
    }),
    database: z.strictObject({ kind: oneOf(['pglite', 'postgres']), ok: z.boolean(), latencyMs: orNull(z.number()) }),
    broker: BrokerStatusSchema,
  })
  .meta({ id: 'HealthSummary' });
