/**
 * The accounts the collector keeps at a Mosquitto with dynamic security (docs/operations.md
 * "External broker"), as the plugin's roles and ACLs. Topics come from the wire's topic tree
 * (shared/src/wire/topics.ts), so they are the ones the agent and the collector actually use.
 *
 * - A sensor `{name}`: client `{name}` with client id `{name}` (the plugin refuses any other id),
 *   role `pcapmesh-sensor-{name}`: publish only to `sensors/{name}/{state|health|pcap|traffic}`,
 *   `sensors/{name}/tasks/+` and `sensors/{name}/estimates/+`; subscribe only to
 *   `commands/{name}/#` (or one command).
 * - An integration `{name}`: client `integration:{name}` (any client id), role
 *   `pcapmesh-integration-{name}`: subscribe to `events/#` only, publish nothing.
 * - The collector: role `pcapmesh-collector`: subscribe to the sensors' tree through its shared
 *   subscription (Mosquitto 2.0 checks `$share/{group}/…` literally), publish commands and events.
 *
 * Clients the collector made carry a `textname` marker, so reconciliation only ever deletes its own.
 */
import { COMMANDS, SENSOR_CHANNELS, TOPIC_PREFIX, topics } from '@pcapmesh/shared/wire';

export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'subscribeLiteral' | 'unsubscribePattern';

export interface Acl {
  acltype: AclType;
  topic: string;
  allow: boolean;
}

export const SENSOR_MARK = 'pcapmesh sensor';
export const INTEGRATION_MARK = 'pcapmesh integration';
export const COLLECTOR_ROLE = 'pcapmesh-collector';
export const INTEGRATION_USER_PREFIX = 'integration:';

export const sensorRole = (name: string): string => `pcapmesh-sensor-${name}`;
export const integrationRole = (name: string): string => `pcapmesh-integration-${name}`;

const allow = (acltype: AclType, topic: string): Acl => ({ acltype, topic, allow: true });

/** What sensor `name` may do (topics.* checks the name). */
export function sensorAcls(name: string): Acl[] {
  const sensorRoot = `${TOPIC_PREFIX}/sensors/${name}`;
  return [
    ...SENSOR_CHANNELS.map((channel) => allow('publishClientSend', topics.sensor(name, channel))),
    allow('publishClientSend', `${sensorRoot}/tasks/+`),
    allow('publishClientSend', `${sensorRoot}/estimates/+`),
    allow('subscribePattern', topics.filters.sensorCommands(name)),
    ...COMMANDS.map((command) => allow('subscribePattern', topics.command(name, command))),
  ];
}

/** What an integration account may do: read events. */
export function integrationAcls(): Acl[] {
  return [allow('subscribePattern', topics.filters.allEvents)];
}

/** What the collector's own account needs besides the admin role's `$CONTROL` rights. */
export function collectorAcls(sharedGroup: string): Acl[] {
  return [
    allow('subscribePattern', `$share/${sharedGroup}/${topics.filters.allSensors}`),
    allow('publishClientReceive', topics.filters.allSensors),
    allow('publishClientSend', `${TOPIC_PREFIX}/commands/#`),
    allow('publishClientSend', `${TOPIC_PREFIX}/events/#`),
  ];
}

/** The same set of ACLs (the plugin also answers a `priority`, ignored here). */
export function sameAcls(have: readonly Partial<Acl>[] | undefined, want: readonly Acl[]): boolean {
  const key = (a: Partial<Acl>) => `${a.acltype}\u0000${a.topic}\u0000${a.allow === true}`;
  const haveKeys = new Set((have ?? []).map(key));
  return haveKeys.size === want.length && want.every((a) => haveKeys.has(key(a)));
}

/** True when every ACL of `want` is among `have`. */
export function hasAcls(have: readonly Partial<Acl>[] | undefined, want: readonly Acl[]): boolean {
  const key = (a: Partial<Acl>) => `${a.acltype}\u0000${a.topic}\u0000${a.allow === true}`;
  const haveKeys = new Set((have ?? []).map(key));
  return want.every((a) => haveKeys.has(key(a)));
}
