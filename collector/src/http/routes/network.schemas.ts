/** Response schemas and shared parameters of the network routes (routes/network.ts, routes/admin-network.ts), mirroring domain/network/network.types.ts. */
import { z } from 'zod';
import { parseCidr } from '../../domain/network/cidr.js';
import type {
  FlowView,
  NetworkLocationsView,
  NetworkLocationView,
  PairView,
  SubnetView,
  TrafficPointView,
  TrafficView,
} from '../../domain/network/network.types.js';
import { int, mirrors, oneOf, orNull, time } from '../openapi/kit.js';

/** A CIDR from a client: canonical form out; malformed, prefix out of range or host bits set → the error. */
export const cidrParam = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const r = parseCidr(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.cidr.text;
  });

const LEARNED_STATES = ['learned', 'external', 'ambiguous'] as const;
const SUBNET_STATES = [...LEARNED_STATES, 'pinned', 'unseen'] as const;

export const SubnetViewSchema = mirrors<SubnetView>()(
  z
    .strictObject({
      subnet: z.string().describe('canonical CIDR (10.1.2.0/24, 2001:db8::/64)'),
      state: oneOf(SUBNET_STATES, 'pinned: an admin pin (wins); learned/external/ambiguous: learning; unseen: pinned earlier, never seen'),
      location: orNull(z.string()).describe('effective location: the pin, else the learned one; null when external or ambiguous'),
      learned: z.strictObject({
        state: orNull(z.enum(LEARNED_STATES)),
        location: orNull(z.string()),
        confidence: orNull(z.number().min(0).max(1)).describe(
          'learned: the location’s share of the subnet’s bytes; external: share of reporting locations; ambiguous: the largest share',
        ),
      }),
      locations: int.describe('locations that saw it in the learning window'),
      packets: int,
      bytes: int.describe('bytes of flows with it at either end, summed over the sensors that saw them'),
      firstSeen: orNull(time),
      lastSeen: orNull(time),
      pinned: orNull(z.strictObject({ location: z.string(), by: orNull(z.string()), at: time })),
    })
    .meta({ id: 'NetworkSubnet' }),
);

const TrafficPointSchema = mirrors<TrafficPointView>()(z.strictObject({ at: time.describe('start of the bucket'), packets: int, bytes: int }));

const PairSchema = mirrors<PairView>()(
  z.strictObject({
    src: z.string().describe('source subnet (CIDR, or "other": what the agent folded)'),
    dst: z.string(),
    srcLocation: orNull(z.string()),
    dstLocation: orNull(z.string()),
    packets: int,
    bytes: int,
  }),
);

export const TrafficViewSchema = mirrors<TrafficView>()(
  z
    .strictObject({
      from: time,
      to: time,
      bucketSeconds: int,
      location: orNull(z.string()),
      subnet: orNull(z.string()),
      totals: z.strictObject({ packets: int, bytes: int }),
      series: z.array(TrafficPointSchema),
      top: z.array(PairSchema).describe('subnet pairs with the most bytes'),
    })
    .meta({ id: 'NetworkTraffic' }),
);

const NetworkLocationSchema = mirrors<NetworkLocationView>()(
  z.strictObject({
    name: z.string(),
    description: orNull(z.string()),
    latitude: orNull(z.number()),
    longitude: orNull(z.number()),
    sensors: z.array(z.string()),
    online: int,
    subnets: int.describe('subnets whose effective location this is'),
    packets: int,
    bytes: int.describe('reported by its sensors in the window'),
  }),
);

const FlowSchema = mirrors<FlowView>()(z.strictObject({ from: z.string(), to: z.string(), packets: int, bytes: int }));

export const NetworkLocationsViewSchema = mirrors<NetworkLocationsView>()(
  z
    .strictObject({
      from: time,
      to: time,
      locations: z.array(NetworkLocationSchema),
      flows: z.array(FlowSchema).describe('traffic between locations (arcs), as the source’s location reported it'),
    })
    .meta({ id: 'NetworkLocations' }),
);
