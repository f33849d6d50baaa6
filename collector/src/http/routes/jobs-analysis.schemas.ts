/**
 * The zod schema of `AnalysisReport` (shared/src/pcap/analyze/report.ts), as GET /jobs/{id}/analysis
 * returns it: documents the answer in OpenAPI and lets tests check a real report against it.
 * Objects are strict and the schema mirrors the type: a field the report gains must be added here too
 * (typecheck and the tests fail until it is).
 */
import { z } from 'zod';
import { PROTOCOL_NAMES, REPORT_VERSION, type AnalysisReport } from '@pcapmesh/shared/pcap/analyze/report';
import { mirrors } from '../openapi/kit.js';

const count = z.number().int().nonnegative();
const seconds = z.number().describe('Unix seconds (fractional)');
const approximate = z.literal(true).optional().describe('from the bounded sketch past the exact table: an estimate');
const counted = { packets: count, bytes: count };
const direction = z.strictObject(counted);
const ipRow = { ...counted, a: z.string(), b: z.string(), aToB: direction, bToA: direction, first: seconds, last: seconds, approximate };
const table = z.strictObject({ distinct: count, cap: count, capped: z.boolean() });
const nameCount = z.strictObject({ name: z.string(), count, approximate });

export const analysisReportSchema = mirrors<AnalysisReport>()(
  z
    .strictObject({
      version: z.literal(REPORT_VERSION),
      files: z.array(z.string()),
      capture: z.strictObject({
        packets: count,
        bytes: count.describe('frame lengths on the wire'),
        capturedBytes: count,
        first: seconds.nullable(),
        last: seconds.nullable(),
        durationSeconds: z.number().nonnegative(),
        linkTypes: z.array(count),
        problems: z.array(z.strictObject({ file: z.string(), offset: count, reason: z.string() })),
      }),
      protocols: z.array(z.strictObject({ protocol: z.enum(PROTOCOL_NAMES), ...counted })),
      topTalkers: z.array(z.strictObject({ address: z.string(), ...counted, sentBytes: count, receivedBytes: count, approximate })),
      conversations: z.strictObject({
        ip: z.array(z.strictObject(ipRow)),
        flows: z.array(z.strictObject({ ...ipRow, transport: z.enum(['tcp', 'udp']), aPort: count, bPort: count })),
        ipTable: table,
        flowTable: table,
        talkerTable: table,
      }),
      topPorts: z.array(z.strictObject({ transport: z.enum(['tcp', 'udp']), port: count, ...counted })),
      timeline: z.strictObject({ start: seconds, bucketSeconds: z.number().positive(), packets: z.array(count), bytes: z.array(count) }),
      dns: z.array(nameCount),
      tlsSni: z.array(nameCount),
      httpHosts: z.array(nameCount),
    })
    .meta({ id: 'AnalysisReport', description: 'The analysis of the merged capture (the report `pcapmesh-pcap analyze --json` prints).' }),
);
