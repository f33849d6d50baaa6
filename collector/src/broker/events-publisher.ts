/**
 * Publishes domain events for integrations as JSON under `pcapmesh/v1/events/` (DESIGN.md):
 *
 *   'sensor.status' → events/sensors/{name}/status   QoS 1, retained (a late subscriber learns each
 *                                                    sensor's current status at once)
 *
 * Publishing is fire-and-forget from the emitter's point of view; a failed publish is logged and
 * counted, never thrown into the service that emitted the event.
 *
 * @example
 *   const stop = publishDomainEvents(events, broker, log);
 *   ...
 *   stop(); // unsubscribes
 */
import type { Logger } from 'pino';
import { encodeEvent, topics } from '@pcapmesh/shared/wire';
import type { DomainEvents } from '../domain/events.js';
import type { BrokerTransport } from './transport.js';

export interface EventsPublisherCounters {
  published: number;
  failed: number;
}

export function publishDomainEvents(
  events: DomainEvents,
  broker: Pick<BrokerTransport, 'publish'>,
  log: Logger,
  counters: EventsPublisherCounters = { published: 0, failed: 0 },
): () => void {
  return events.on('sensor.status', (event) => {
    const topic = topics.event('sensors', event.sensor, 'status');
    broker.publish(topic, encodeEvent({ ...event }), { qos: 1, retain: true }).then(
      () => {
        counters.published += 1;
      },
      (err: unknown) => {
        counters.failed += 1;
        log.warn({ sensor: event.sensor, topic, err }, 'publishing a status event failed');
      },
    );
  });
}
