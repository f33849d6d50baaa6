/**
 * The source of the WebSocket live feed: sensor status changes and health samples, as JSON-ready
 * events. `domainLiveFeed` reads this process's DomainEvents; a replica-spanning feed (Redis
 * pub/sub) implements the same interface.
 */
import type { DomainEvents, SensorHealthEvent, SensorStatusEvent } from '../domain/events.js';

export type LiveEvent = SensorStatusEvent | SensorHealthEvent;

export interface LiveFeed {
  /** Calls `listener` for every event from now on; returns the function that unsubscribes. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

export function domainLiveFeed(events: DomainEvents): LiveFeed {
  return {
    subscribe(listener) {
      const offStatus = events.on('sensor.status', listener);
      const offHealth = events.on('sensor.health', listener);
      return () => {
        offStatus();
        offHealth();
      };
    },
  };
}
