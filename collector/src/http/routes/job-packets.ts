/**
 * The packet view of a job's merged result, decoded on the collector (domain/jobs/packets.service.ts):
 *
 *   GET /jobs/:id/packets?offset=&limit=   (read)  { total, offset, limit, packets: [PacketRow] }
 *   GET /jobs/:id/packets/:n               (read)  PacketDetail: the row, its layers with fields, the bytes (hex)
 *
 * Same rights as GET /jobs/{id}/analysis; the hex dump (`bytes`) only for a caller who may download the job.
 * Not audited (reading, like the analysis).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { Actor } from '../../domain/accounts/roles.js';
import { MAX_PACKET_PAGE, type PacketDetail, type PacketPage, type PacketsService } from '../../domain/jobs/packets.service.js';
import { principalActor } from '../actor.js';
import type { AppEnv } from '../env.js';
import { int, mirrors } from '../openapi/kit.js';
import { defineOperation } from '../openapi/operation.js';
import { jobParams } from './jobs.schemas.js';
import type { RouteTools } from './tools.js';

const count = int.nonnegative();
const rowShape = {
  number: int.positive().describe('1-based packet number (Wireshark "No.")'),
  time: z.string().describe('arrival time, Unix seconds with 9 fraction digits'),
  relative: z.number().describe('seconds since the first packet of the result'),
  length: count.describe('length on the wire'),
  captured: count.describe('bytes captured'),
  protocol: z.string().describe('highest layer understood: DNS, TLS, HTTP, TCP, UDP, ICMP, ARP, IPv4, IPv6, …'),
  source: z.string(),
  destination: z.string(),
  info: z.string(),
};
const packetRowSchema = z.strictObject(rowShape).meta({ id: 'PacketRow', description: 'One row of the packet list.' });

export const packetPageSchema = mirrors<PacketPage>()(
  z
    .strictObject({ total: count.describe('packets in the merged result'), offset: count, limit: int.positive(), packets: z.array(packetRowSchema) })
    .meta({ id: 'PacketPage', description: 'A page of the packet list of a job’s merged result.' }),
);

const layerSchema = z.strictObject({
  name: z.string().describe('Frame, Ethernet, 802.1Q, IPv4, IPv6, ARP, TCP, UDP, SCTP, ICMP, ICMPv6, DNS, TLS, HTTP, or the link type'),
  offset: count.describe('first byte of the layer in `bytes`'),
  length: count,
  truncated: z.boolean().describe('the header was not fully captured'),
  fields: z.array(z.strictObject({ name: z.string(), value: z.string() })),
});

export const packetDetailSchema = mirrors<PacketDetail>()(
  z
    .strictObject({
      ...rowShape,
      linkType: count.describe('LINKTYPE_* of the packet'),
      layers: z.array(layerSchema),
      bytes: z.string().nullable().describe('the captured bytes as lowercase hex; null for a caller who may not download the job (its owner or an admin may)'),
      bytesWithheld: z.string().nullable().describe('why `bytes` is null'),
    })
    .meta({ id: 'PacketDetail', description: 'One packet: its row, its layers with their fields, and its bytes.' }),
);

/** `?offset=&limit=`: bad values are 400 naming the field. */
export const packetPageQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0).describe('first packet to return, 0-based'),
  limit: z.coerce.number().int().min(1).max(MAX_PACKET_PAGE).default(100).describe(`packets to return, 1–${MAX_PACKET_PAGE}`),
});
export const packetParams = jobParams.extend({ n: z.coerce.number().int().min(1).describe('packet number, 1-based') });

export const listJobPackets = defineOperation({
  method: 'get',
  path: '/jobs/{id}/packets',
  id: 'listJobPackets',
  tag: 'jobs',
  permission: 'read',
  summary: 'A page of the packet list of the merged result, decoded on the collector',
  description:
    'Time, source, destination, protocol, length and info of packets `offset` .. `offset + limit - 1`. The first request builds an ' +
    'offset index of the result (kept beside it), so any page is read with one seek. 404 until the job has a merged result; 400 for an ' +
    'offset past the last packet.',
  params: jobParams,
  query: packetPageQuery,
  responses: { 200: { description: 'the page', schema: packetPageSchema } },
  errors: [400, 404],
});

export const getJobPacket = defineOperation({
  method: 'get',
  path: '/jobs/{id}/packets/{n}',
  id: 'getJobPacket',
  tag: 'jobs',
  permission: 'read',
  summary: 'One packet of the merged result: its layers with their fields and a hex dump',
  description:
    'The layers (frame, link, network, transport, application) with their fields and byte ranges. The captured bytes are packet ' +
    'contents: they are given only to a caller who may download the job (its owning analyst or an admin); others get `bytes: null`.',
  params: packetParams,
  responses: { 200: { description: 'the packet', schema: packetDetailSchema } },
  errors: [400, 404],
});

export interface JobPacketRouteDeps {
  packets: Pick<PacketsService, 'page' | 'packet'>;
}

export function jobPacketRoutes(deps: JobPacketRouteDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const actorIn = (c: Parameters<typeof principalActor>[0]): Actor => principalActor(c);
  route(app, listJobPackets, async (c, { params, query, reply }) => reply(200, await deps.packets.page(actorIn(c), params.id, query.offset, query.limit)));
  route(app, getJobPacket, async (c, { params, reply }) => reply(200, await deps.packets.packet(actorIn(c), params.id, params.n)));
  return app;
}
