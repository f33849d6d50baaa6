/** Response schemas of GET /admin/maintenance, tied with `mirrors` to the domain views. */
import { z } from 'zod';
import {
  MAINTENANCE_ACTIONS,
  MAINTENANCE_OUTCOMES,
  type MaintenanceOperationView,
  type MaintenancePage,
} from '../../domain/maintenance/maintenance.service.js';
import { int, mirrors, orNull, time } from '../openapi/kit.js';

export const MaintenanceOperationSchema = mirrors<MaintenanceOperationView>()(
  z
    .strictObject({
      id: int,
      at: time.describe('when the operation started'),
      table: z.string().describe('the partitioned table'),
      partition: z.string().describe('the partition created, dropped, moved into or purged'),
      action: z.enum(MAINTENANCE_ACTIONS),
      rangeFrom: orNull(time),
      rangeTo: orNull(time).describe('for purge-default: rows before this were deleted'),
      rows: orNull(int).describe("rows moved or purged; a dropped partition's estimated rows; null for create"),
      bytes: orNull(int).describe('bytes a dropped partition took on disk; null otherwise'),
      outcome: z.enum(MAINTENANCE_OUTCOMES),
      error: orNull(z.string()).describe("the database's message when the operation failed"),
      durationMs: z.number().min(0),
    })
    .meta({ id: 'MaintenanceOperation' }),
);

export const MaintenancePageSchema = mirrors<MaintenancePage>()(
  z
    .strictObject({
      operations: z.array(MaintenanceOperationSchema),
      next: orNull(z.string()).describe('the cursor of the next (older) page; null at the end'),
    })
    .meta({ id: 'MaintenancePage' }),
);
