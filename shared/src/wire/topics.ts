/**
 * The MQTT topic tree (docs/design.md "MQTT topics", details in docs/mqtt.md), built and parsed in this one place.
 *
 *   pcapmesh/v1/sensors/{sensor}/state|health|pcap|traffic    agent → collector (CBOR)
 *   pcapmesh/v1/sensors/{sensor}/tasks/{task}                  agent → collector (CBOR)
 *   pcapmesh/v1/sensors/{sensor}/estimates/{request}           agent → collector (CBOR), a dry run's answer
 *   pcapmesh/v1/commands/{sensor}/tasks|cancel|estimate        collector → agent (CBOR)
 *   pcapmesh/v1/events/...                                     collector → integrations (JSON)
 */

export const TOPIC_PREFIX = 'pcapmesh/v1';

/** What an agent publishes about itself, one topic each. */
export const SENSOR_CHANNELS = ['state', 'health', 'pcap', 'traffic'] as const;
export type SensorChannel = (typeof SENSOR_CHANNELS)[number];

export const COMMANDS = ['tasks', 'cancel', 'estimate'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * Sensor names are topic levels, so they must not hold `/`, `+`, `#` or `$`; we also keep them
 * short, lower-case and printable so they read well in URLs and logs.
 */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function isValidSensorName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** Task ids are UUIDs or similar opaque tokens; the same character rules as sensor names apply. */
export function isValidTaskId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id);
}

function checkedName(name: string): string {
  if (!isValidSensorName(name)) throw new Error(`invalid sensor name ${JSON.stringify(name)}: use a-z, 0-9, '.', '_', '-' (1-63 characters)`);
  return name;
}

export const topics = {
  sensor(name: string, channel: SensorChannel): string {
    return `${TOPIC_PREFIX}/sensors/${checkedName(name)}/${channel}`;
  },
  taskStatus(name: string, taskId: string): string {
    if (!isValidTaskId(taskId)) throw new Error(`invalid task id ${JSON.stringify(taskId)}`);
    return `${TOPIC_PREFIX}/sensors/${checkedName(name)}/tasks/${taskId}`;
  },
  estimate(name: string, requestId: string): string {
    if (!isValidTaskId(requestId)) throw new Error(`invalid estimate request id ${JSON.stringify(requestId)}`);
    return `${TOPIC_PREFIX}/sensors/${checkedName(name)}/estimates/${requestId}`;
  },
  command(name: string, command: Command): string {
    return `${TOPIC_PREFIX}/commands/${checkedName(name)}/${command}`;
  },
  /** JSON event for integrations, e.g. event('sensors', 'alpha', 'status'). */
  event(...levels: string[]): string {
    for (const level of levels) {
      if (level === '' || /[/+#]/.test(level)) throw new Error(`invalid event topic level ${JSON.stringify(level)}`);
    }
    return `${TOPIC_PREFIX}/events/${levels.join('/')}`;
  },
  /** Subscription filters the collector uses. */
  filters: {
    allSensors: `${TOPIC_PREFIX}/sensors/#`,
    sensorCommands: (name: string) => `${TOPIC_PREFIX}/commands/${checkedName(name)}/#`,
    allEvents: `${TOPIC_PREFIX}/events/#`,
  },
} as const;

export type ParsedTopic =
  | { kind: 'sensor'; sensor: string; channel: SensorChannel }
  | { kind: 'task-status'; sensor: string; taskId: string }
  | { kind: 'estimate'; sensor: string; requestId: string }
  | { kind: 'command'; sensor: string; command: Command }
  | { kind: 'event'; levels: string[] };

/** Parses a concrete topic (no wildcards); null when it is not part of our tree. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (!topic.startsWith(`${TOPIC_PREFIX}/`)) return null;
  const levels = topic.slice(TOPIC_PREFIX.length + 1).split('/');
  const [root, name, third, fourth, ...rest] = levels;
  if (root === 'events') {
    const eventLevels = levels.slice(1);
    return eventLevels.length > 0 && eventLevels.every((l) => l !== '') ? { kind: 'event', levels: eventLevels } : null;
  }
  if (name === undefined || !isValidSensorName(name) || rest.length > 0) return null;
  if (root === 'sensors') {
    if (fourth === undefined && (SENSOR_CHANNELS as readonly string[]).includes(third ?? '')) {
      return { kind: 'sensor', sensor: name, channel: third as SensorChannel };
    }
    if (third === 'tasks' && fourth !== undefined && isValidTaskId(fourth)) {
      return { kind: 'task-status', sensor: name, taskId: fourth };
    }
    if (third === 'estimates' && fourth !== undefined && isValidTaskId(fourth)) {
      return { kind: 'estimate', sensor: name, requestId: fourth };
    }
    return null;
  }
  if (root === 'commands' && fourth === undefined && (COMMANDS as readonly string[]).includes(third ?? '')) {
    return { kind: 'command', sensor: name, command: third as Command };
  }
  return null;
}

/**
 * Broker ACL for a sensor account: it may publish only under `sensors/{its name}/` (to a topic of
 * our tree), and subscribe only to filters inside `commands/{its name}/`.
 */
export function sensorMayPublish(sensor: string, topic: string): boolean {
  const parsed = parseTopic(topic);
  return parsed !== null && (parsed.kind === 'sensor' || parsed.kind === 'task-status' || parsed.kind === 'estimate') && parsed.sensor === sensor;
}

export function sensorMaySubscribe(sensor: string, filter: string): boolean {
  if (!isValidSensorName(sensor)) return false;
  const own = `${TOPIC_PREFIX}/commands/${sensor}/`;
  if (!filter.startsWith(own)) return false;
  const tail = filter.slice(own.length);
  // `#` alone, or one of our command names; `+` would be harmless here but keep the grammar tight.
  return tail === '#' || (COMMANDS as readonly string[]).includes(tail);
}

/** Integration accounts: read-only subscribers to the events tree. */
export function integrationMaySubscribe(filter: string): boolean {
  return filter === topics.filters.allEvents || (filter.startsWith(`${TOPIC_PREFIX}/events/`) && !filter.includes('$'));
}
