/**
 * JSON events published under `pcapmesh/v1/events/` for integrations. Stable field names; new
 * fields may be added, none removed without a new topic version.
 */
export interface SensorStatusEvent {
  type: 'sensor.status';
  sensor: string;
  status: 'online' | 'offline' | 'degraded';
  previous: 'online' | 'offline' | 'degraded' | 'unknown';
  reason: string;
  /** ISO 8601 time of the transition (collector clock). */
  at: string;
}

export type PcapmeshEvent = SensorStatusEvent;
