/**
 * Typed in-process domain events. Services emit after their change is committed; transport
 * (MQTT `events/` publisher, WebSocket live feed) subscribes. A listener that throws never
 * disturbs the emitter or the other listeners: its error goes to `onListenerError`.
 */
import type { JobStatusEvent, SensorStatusEvent } from '@pcapmesh/shared/wire';
import type { TaskView } from './jobs/jobs.types.js';
import type { NetworkSubnetEvent } from './network/network.types.js';

export type { JobStatusEvent, NetworkSubnetEvent, SensorStatusEvent };

/**
 * A task moved or reported progress (live feed): every state change, and progress at most once a
 * second per task.
 */
export interface TaskProgressEvent {
  type: 'task.progress';
  job: string;
  task: string;
  sensor: string;
  status: TaskView['status'];
  attempt: number;
  reason: string | null;
  progress: TaskView['progress'];
  at: string;
}

/** A health sample as the live feed shows it (a summary of the stored sample). */
export interface SensorHealthEvent {
  type: 'sensor.health';
  sensor: string;
  /** ISO 8601 time of the sample (the agent's sending time). */
  at: string;
  /** CPU usage, percent 0..100. */
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
  /** One entry per filesystem holding a capture directory. */
  disks: { mount: string; size: number; used: number; usedPercent: number }[];
}

export interface DomainEventMap {
  'sensor.status': SensorStatusEvent;
  'sensor.health': SensorHealthEvent;
  /**
   * A job changed state (`event` = the new state, or `submitted`), or its tasks made progress
   * (`event: 'progress'`, at most once a second per job).
   */
  'job.status': JobStatusEvent;
  'task.progress': TaskProgressEvent;
  /** A subnet was learned, moved location, or was pinned or unpinned (domain/network). */
  'network.subnet': NetworkSubnetEvent;
}

export type DomainEventName = keyof DomainEventMap;
export type Listener<K extends DomainEventName> = (event: DomainEventMap[K]) => void;

export class DomainEvents {
  private readonly listeners = new Map<DomainEventName, Set<(event: never) => void>>();

  /** @param onListenerError receives what a listener threw (default: printed to stderr). */
  constructor(private readonly onListenerError: (err: unknown, name: DomainEventName) => void = defaultOnError) {}

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends DomainEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  /** Calls every listener of `name` synchronously, in subscription order. */
  emit<K extends DomainEventName>(name: K, event: DomainEventMap[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as Listener<K>)(event);
      } catch (err) {
        this.onListenerError(err, name);
      }
    }
  }

  /** Number of listeners of `name` (for tests and leak checks). */
  listenerCount(name: DomainEventName): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}

function defaultOnError(err: unknown, name: DomainEventName): void {
  console.error(`listener of ${name} failed:`, err);
}
