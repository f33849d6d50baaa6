/** Response schema of GET /search, tied with `mirrors` to the domain views (domain/search/search.types.ts). */
import { z } from 'zod';
import type { AddressView, JobHit, LocationHit, SearchView, SensorHit, SightingView, SubnetHit, UserHit } from '../../domain/search/search.service.js';
import { int, mirrors, oneOf, orNull, time } from '../openapi/kit.js';

const SensorHitSchema = mirrors<SensorHit>()(
  z.strictObject({ name: z.string(), location: orNull(z.string()), status: z.string(), hostname: orNull(z.string()), lastSeen: orNull(time) }),
);
const LocationHitSchema = mirrors<LocationHit>()(
  z.strictObject({ name: z.string(), description: orNull(z.string()), sensors: int.describe('sensors at the location') }),
);
const SubnetHitSchema = mirrors<SubnetHit>()(
  z.strictObject({
    subnet: z.string().describe('canonical CIDR'),
    state: oneOf(['learned', 'external', 'ambiguous', 'pinned', 'unseen']),
    location: orNull(z.string()).describe('effective location: the pin, else the learned one'),
    lastSeen: orNull(time),
    bytes: int,
  }),
);
const JobHitSchema = mirrors<JobHit>()(
  z.strictObject({
    id: z.string(),
    name: orNull(z.string()),
    owner: z.string(),
    status: z.string(),
    filter: z.string().describe('the canonical filter expression'),
    createdAt: time,
  }),
);
const UserHitSchema = mirrors<UserHit>()(z.strictObject({ username: z.string(), role: z.string(), disabled: z.boolean() }));
const SightingSchema = mirrors<SightingView>()(
  z.strictObject({
    sensor: z.string(),
    location: orNull(z.string()),
    firstSeen: time.describe('start of the first summary interval that carried it'),
    lastSeen: time.describe('end of the last one'),
    packets: int,
    bytes: int,
  }),
);

export const ReadyJobRequestSchema = z
  .strictObject({
    window: z.strictObject({ from: time, to: time }),
    filter: z.strictObject({ expression: z.string().describe('host A, or net C') }),
    targets: z.strictObject({ sensors: z.array(z.string()) }),
  })
  .meta({
    id: 'ReadyJobRequest',
    description: 'A POST /jobs body (JobRequest) ready to submit as it is: the sensors that saw the address, over the time they saw it.',
  });

const AddressViewSchema = mirrors<AddressView>()(
  z
    .strictObject({
      query: z.string().describe('the address or network searched, canonical (a bare address as /32 or /128)'),
      host: z.boolean().describe('a single address'),
      window: z.strictObject({ from: time, to: time }).describe('where the sightings were looked for'),
      subnet: orNull(SubnetHitSchema).describe('the most specific subnet of the map containing it'),
      location: orNull(z.string()).describe("that subnet's effective location"),
      sightings: z.array(SightingSchema).describe('sensors whose traffic summaries carried it, most bytes first'),
      jobRequest: orNull(ReadyJobRequestSchema).describe('null when no sensor saw it in the window'),
    })
    .meta({ id: 'SearchAddress' }),
);

export const SearchViewSchema = mirrors<SearchView>()(
  z
    .strictObject({
      q: z.string().describe('the text searched, trimmed'),
      sensors: z.array(SensorHitSchema).describe('name, hostname or location contains q'),
      locations: z.array(LocationHitSchema).describe('name or description contains q'),
      subnets: z.array(SubnetHitSchema).describe('subnets of the map containing q or overlapping the address/network'),
      jobs: z.array(JobHitSchema).describe('id, name or filter expression contains q; newest first'),
      users: orNull(z.array(UserHitSchema)).describe('username contains q; admins only (null for others)'),
      address: orNull(AddressViewSchema).describe('when q is an IP address or CIDR'),
    })
    .meta({ id: 'SearchResult' }),
);
