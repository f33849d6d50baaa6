/**
 * The source of the WebSocket live feed: sensor status changes and health samples as JSON-ready
 * events, fanned out through the cache's pub/sub so that with Redis every collector replica's
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
import type { DomainEvents, SensorHealthEvent, SensorStatusEvent } from '../domain/events.js';

export type LiveEvent = SensorStatusEvent | SensorHealthEvent;

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
        log.error({ err, sensor: event.sensor }, 'live feed listener failed');
      }
    }
  });
  const forward = (event: LiveEvent) => {
    cache.publish(LIVE_CHANNEL, JSON.stringify(event)).catch((err: unknown) => log.warn({ err, sensor: event.sensor }, 'publishing a live event failed'));
  };
  const offStatus = events.on('sensor.status', forward);
  const offHealth = events.on('sensor.health', forward);
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
      listeners.clear();
      await unsubscribe();
    },
  };
}
