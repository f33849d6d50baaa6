/**
 * The source of the WebSocket live feed: sensor status changes and health samples, job state
 * changes and progress (`job.status`, progress ≤ 1/s per job) and task moves (`task.progress`,
 * every state change, progress ≤ 1/s per task) as JSON-ready events, fanned out through the cache's pub/sub so that with Redis every collector replica's
 * clients see every replica's events (with the memory cache: this process's events).
 *
 *   DomainEvents ──publish──▶ cache channel "live" ──subscribe──▶ local listeners (WebSocket clients)
 *
 * A listener that throws is logged and never disturbs the others; a malformed message on the
 * channel is logged and dropped.
 *
 * @example
 *   const feed = await openLiveFeed(events, cache, log);
 *   const off = feed.subscribe((event) => ws.send(JSON.stringify(event)));
 *   ...
 *   await feed.close();
 */
import type { Logger } from 'pino';
import type { CacheStore } from '../cache/store.js';
import type { DomainEvents, JobStatusEvent, SensorHealthEvent, SensorStatusEvent, TaskProgressEvent } from '../domain/events.js';

export type LiveEvent = SensorStatusEvent | SensorHealthEvent | JobStatusEvent | TaskProgressEvent;

/** The ids a log line about an event carries. */
function idsOf(event: LiveEvent): Record<string, string> {
  if (event.type === 'job.status') return { job: event.job };
  if (event.type === 'task.progress') return { job: event.job, task: event.task, sensor: event.sensor };
  return { sensor: event.sensor };
}

export interface LiveFeed {
  /** Calls `listener` for every event from now on; returns the function that unsubscribes. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

export interface LiveFeedHub extends LiveFeed {
  /** Local listeners currently subscribed. */
  readonly listeners: number;
  /** Stops forwarding and drops the channel subscription. */
  close(): Promise<void>;
}

export const LIVE_CHANNEL = 'live';

export async function openLiveFeed(events: DomainEvents, cache: Pick<CacheStore, 'publish' | 'subscribe'>, log: Logger): Promise<LiveFeedHub> {
  const listeners = new Set<(event: LiveEvent) => void>();
  const unsubscribe = await cache.subscribe(LIVE_CHANNEL, (message) => {
    let event: LiveEvent;
    try {
      event = JSON.parse(message) as LiveEvent;
    } catch (err) {
      log.warn({ err }, 'malformed live event dropped');
      return;
    }
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err, ...idsOf(event) }, 'live feed listener failed');
      }
    }
  });
  const forward = (event: LiveEvent) => {
    cache.publish(LIVE_CHANNEL, JSON.stringify(event)).catch((err: unknown) => log.warn({ err, ...idsOf(event) }, 'publishing a live event failed'));
  };
  const offStatus = events.on('sensor.status', forward);
  const offHealth = events.on('sensor.health', forward);
  const offJob = events.on('job.status', forward);
  const offTask = events.on('task.progress', forward);
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    get listeners() {
      return listeners.size;
    },
    async close() {
      offStatus();
      offHealth();
      offJob();
      offTask();
      listeners.clear();
      await unsubscribe();
    },
  };
}
