/**
 * The AsyncAPI 3.0 document of the MQTT interface (docs/mqtt.md), from the application's point of
 * view: the collector receives what agents publish (CBOR) and sends commands (CBOR) and the JSON
 * events for integrations. Payload schemas are generated with z.toJSONSchema (draft-07, the
 * AsyncAPI schema dialect) from the very zod schemas ingest decodes with (shared/src/wire) and the
 * event schemas of the live feed (ws.schemas.ts), so the document cannot drift from the code.
 *
 * Contract: every topic shape of shared/src/wire/topics.ts is a channel whose `address` is the
 * topic with `{sensor}` / `{task}` / `{request}` / `{job}` parameters; every channel's messages
 * reference `#/components/messages/*`, whose payloads reference `#/components/schemas/*`.
 *
 * @example
 *   const doc = asyncApiDocument({ version: '0.1.0' });
 *   doc.channels.sensorHealth.address; // 'pcapmesh/v1/sensors/{sensor}/health'
 */
import { z } from 'zod';
import { COMMANDS, SENSOR_CHANNELS, TOPIC_PREFIX, messageSchemas, type MessageKind } from '@pcapmesh/shared/wire';
import type { NetworkSubnetEvent } from '../../domain/network/network.types.js';
import { mirrors } from '../openapi/kit.js';
import { JobStatusEventSchema, SensorStatusEventSchema } from './ws.schemas.js';

type Json = { [key: string]: unknown };

const SUBNET_STATES = ['learned', 'external', 'ambiguous', 'pinned', 'unseen'] as const;

/** `events/network/subnets` (domain/network NetworkSubnetEvent). */
export const NetworkSubnetEventSchema = mirrors<NetworkSubnetEvent>()(
  z.strictObject({
    type: z.literal('network.subnet'),
    change: z.enum(['learned', 'moved', 'pinned', 'unpinned']),
    subnet: z.string().describe('canonical CIDR'),
    state: z.enum(SUBNET_STATES),
    location: z.string().nullable(),
    previousState: z.enum(SUBNET_STATES).nullable(),
    previousLocation: z.string().nullable(),
    confidence: z.number().nullable(),
    at: z.string().describe('ISO 8601 time of the change (collector clock)'),
  }),
);

interface ChannelSpec {
  /** Channel id (also names the message and schema). */
  id: string;
  address: string;
  description: string;
  /** receive: agents → collector; send: collector → agents or integrations. */
  action: 'receive' | 'send';
  message: { name: string; contentType: 'application/cbor' | 'application/json'; schema: z.ZodType; summary: string };
  qos: 0 | 1;
  retain: boolean;
}

const PARAMETERS: Record<string, string> = {
  sensor: 'sensor name: a-z, 0-9, ".", "_", "-" (1-63 characters)',
  task: 'task id',
  request: 'estimate request id',
  job: 'job id',
};

const SENSOR_MESSAGES: Record<(typeof SENSOR_CHANNELS)[number], { kind: MessageKind; summary: string; retain: boolean }> = {
  state: {
    kind: 'state',
    summary: 'Birth (status online, bdSeq, version, interfaces, capabilities) and last will (status offline, reason lost)',
    retain: true,
  },
  health: { kind: 'health', summary: 'CPU, memory, load, disks, interface counters, capture processes, clock offset', retain: false },
  pcap: { kind: 'pcap', summary: 'Per capture source: oldest/newest packet time, files, bytes, gaps, damaged and indexed files', retain: true },
  traffic: { kind: 'traffic', summary: 'Per minute and capture file: packets and bytes by (source subnet, destination subnet)', retain: false },
};
const COMMAND_MESSAGES: Record<(typeof COMMANDS)[number], { kind: MessageKind; summary: string }> = {
  tasks: { kind: 'task', summary: 'A task: id, job, attempt, window, canonical filter, limits, upload URL and token' },
  cancel: { kind: 'cancel', summary: 'Cancel a task, with the reason' },
  estimate: { kind: 'estimate-command', summary: 'A dry run’s question: request id, window, filter' },
};

const pascal = (s: string) => s.replace(/(^|[-_/.])([a-z])/g, (_m, _sep: string, ch: string) => ch.toUpperCase());

/** Every channel of the interface, in docs/mqtt.md's order. */
export function asyncApiChannels(): ChannelSpec[] {
  const channels: ChannelSpec[] = [];
  for (const channel of SENSOR_CHANNELS) {
    const m = SENSOR_MESSAGES[channel];
    channels.push({
      id: `sensor${pascal(channel)}`,
      address: `${TOPIC_PREFIX}/sensors/{sensor}/${channel}`,
      description: `Agent → collector: ${m.summary}.`,
      action: 'receive',
      message: { name: `Sensor${pascal(channel)}`, contentType: 'application/cbor', schema: messageSchemas[m.kind], summary: m.summary },
      qos: 1,
      retain: m.retain,
    });
  }
  channels.push({
    id: 'sensorTaskStatus',
    address: `${TOPIC_PREFIX}/sensors/{sensor}/tasks/{task}`,
    description: 'Agent → collector: a task’s status, attempt, progress, result or error (docs/jobs.md).',
    action: 'receive',
    message: { name: 'SensorTaskStatus', contentType: 'application/cbor', schema: messageSchemas['task-status'], summary: 'Task status' },
    qos: 1,
    retain: false,
  });
  channels.push({
    id: 'sensorEstimate',
    address: `${TOPIC_PREFIX}/sensors/{sensor}/estimates/{request}`,
    description: 'Agent → collector: a dry run’s answer (files, bytes in the window, indexed files, match upper bound, bytes to read).',
    action: 'receive',
    message: { name: 'SensorEstimate', contentType: 'application/cbor', schema: messageSchemas.estimate, summary: 'Estimate answer' },
    qos: 1,
    retain: false,
  });
  for (const command of COMMANDS) {
    const m = COMMAND_MESSAGES[command];
    channels.push({
      id: `command${pascal(command)}`,
      address: `${TOPIC_PREFIX}/commands/{sensor}/${command}`,
      description: `Collector → agent, never retained: ${m.summary}.`,
      action: 'send',
      message: { name: `Command${pascal(command)}`, contentType: 'application/cbor', schema: messageSchemas[m.kind], summary: m.summary },
      qos: 1,
      retain: false,
    });
  }
  const events: [string, string, z.ZodType, string, boolean][] = [
    [
      'eventSensorStatus',
      'sensors/{sensor}/status',
      SensorStatusEventSchema,
      'A sensor’s status changed (retained: a new subscriber learns every sensor’s status)',
      true,
    ],
    ['eventJobStatus', 'jobs/{job}/status', JobStatusEventSchema, 'A job’s life: submitted, running, progress (≤ 1/s), merging, then its end', false],
    ['eventNetworkSubnets', 'network/subnets', NetworkSubnetEventSchema, 'A subnet was learned, moved, pinned or unpinned', false],
  ];
  for (const [id, tail, schema, summary, retain] of events) {
    channels.push({
      id,
      address: `${TOPIC_PREFIX}/events/${tail}`,
      description: `Collector → integrations (JSON; an integration account may subscribe under events/): ${summary}.`,
      action: 'send',
      message: { name: pascal(id.replace(/^event/, '')) + 'Event', contentType: 'application/json', schema, summary },
      qos: 1,
      retain,
    });
  }
  return channels;
}

const DEFINITIONS = '#/definitions/';
const COMPONENT_SCHEMAS = '#/components/schemas/';

/** `node` with every `#/definitions/X` reference pointed at `#/components/schemas/X`. */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith(DEFINITIONS) ? COMPONENT_SCHEMAS + v.slice(DEFINITIONS.length) : rebase(v),
    ]),
  );
}

/**
 * Adds a zod schema to `schemas` as draft-07 JSON Schema and returns the reference to its root.
 * Schemas with a `.meta({ id })` (the live feed's events) come out of z.toJSONSchema as
 * `definitions`: they become components of their own, and a root that is only a reference to one
 * is that reference. Throws when two different schemas claim one component name.
 */
function addSchema(schemas: Record<string, Json>, name: string, schema: z.ZodType): string {
  const generated = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any' }) as Json;
  const { $schema: _dialect, definitions, ...root } = rebase(generated) as Json & { definitions?: Record<string, Json> };
  const put = (key: string, value: Json) => {
    const known = schemas[key];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) throw new Error(`asyncapi: two schemas named ${key}`);
    schemas[key] = value;
  };
  for (const [key, value] of Object.entries(definitions ?? {})) put(key, value);
  const keys = Object.keys(root);
  if (keys.length === 1 && typeof root.$ref === 'string') return root.$ref;
  put(name, root);
  return COMPONENT_SCHEMAS + name;
}

/** The whole AsyncAPI 3.0.0 document. */
export function asyncApiDocument(opts: { version: string }): Json & { channels: Record<string, Json & { address: string }> } {
  const channels: Record<string, Json & { address: string }> = {};
  const operations: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  const schemas: Record<string, Json> = {};
  for (const ch of asyncApiChannels()) {
    const params = [...ch.address.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1] as string);
    const payload = addSchema(schemas, ch.message.name, ch.message.schema);
    messages[ch.message.name] = {
      name: ch.message.name,
      summary: ch.message.summary,
      contentType: ch.message.contentType,
      payload: { $ref: payload },
    };
    channels[ch.id] = {
      address: ch.address,
      description: ch.description,
      messages: { [ch.message.name]: { $ref: `#/components/messages/${ch.message.name}` } },
      ...(params.length > 0 ? { parameters: Object.fromEntries(params.map((p) => [p, { description: PARAMETERS[p] ?? p }])) } : {}),
      bindings: { mqtt: { bindingVersion: '0.2.0' } },
    };
    operations[`${ch.action}${ch.id[0]?.toUpperCase()}${ch.id.slice(1)}`] = {
      action: ch.action,
      channel: { $ref: `#/channels/${ch.id}` },
      messages: [{ $ref: `#/channels/${ch.id}/messages/${ch.message.name}` }],
      bindings: { mqtt: { qos: ch.qos, retain: ch.retain, bindingVersion: '0.2.0' } },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'pcapmesh MQTT interface',
      version: opts.version,
      description:
        'Topics between pcapmesh agents and the collector (CBOR maps, RFC 8949, with the envelope v / sentAt / seq) and the JSON events for integrations. ' +
        'MQTT 3.1.1 on the embedded broker; see docs/mqtt.md for access control and limits.',
    },
    defaultContentType: 'application/cbor',
    channels,
    operations,
    components: { messages, schemas },
  };
}
