/**
 * Publishes domain events for integrations as JSON under `pcapmesh/v1/events/` (docs/mqtt.md "Events (JSON)"):
 *
 *   'sensor.status' → events/sensors/{name}/status   QoS 1, retained (a late subscriber learns each
 *                                                    sensor's current status at once)
 *   'job.status'    → events/jobs/{id}/status        QoS 1, not retained (jobs come and go; a
 *                                                    retained message per job would outlive it).
 *                                                    `progress` events at most once a second per job;
 *                                                    state changes always.
 *   'network.subnet' → events/network/subnets        QoS 1, not retained: a subnet learned, moved,
 *                                                    pinned or unpinned (domain/network).
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

/** Least time between two `progress` events of one job on the events tree. */
export const JOB_PROGRESS_INTERVAL_MS = 1000;

export function publishDomainEvents(
  events: DomainEvents,
  broker: Pick<BrokerTransport, 'publish'>,
  log: Logger,
  counters: EventsPublisherCounters = { published: 0, failed: 0 },
  now: () => number = Date.now,
): () => void {
  const send = (topic: string, event: Record<string, unknown>, retain: boolean, ids: Record<string, string>) => {
    broker.publish(topic, encodeEvent(event), { qos: 1, retain }).then(
      () => {
        counters.published += 1;
      },
      (err: unknown) => {
        counters.failed += 1;
        log.warn({ ...ids, topic, err }, 'publishing an event failed');
      },
    );
  };
  const offSensor = events.on('sensor.status', (event) => {
    send(topics.event('sensors', event.sensor, 'status'), { ...event }, true, { sensor: event.sensor });
  });
  const lastProgress = new Map<string, number>();
  const offJob = events.on('job.status', (event) => {
    if (event.event === 'progress') {
      const last = lastProgress.get(event.job);
      if (last !== undefined && now() - last < JOB_PROGRESS_INTERVAL_MS) return;
      lastProgress.set(event.job, now());
    } else if (event.status !== 'pending' && event.status !== 'running' && event.status !== 'merging') {
      lastProgress.delete(event.job);
    }
    send(topics.event('jobs', event.job, 'status'), { ...event }, false, { job: event.job });
  });
  const offSubnet = events.on('network.subnet', (event) => {
    send(topics.event('network', 'subnets'), { ...event }, false, { subnet: event.subnet });
  });
  return () => {
    offSensor();
    offJob();
    offSubnet();
  };
}
