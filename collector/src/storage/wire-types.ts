/** The wire message parts repositories store, named once for storage/ (types only). */
import type { HealthMessage } from '@pcapmesh/shared/wire';

export type CaptureProcess = HealthMessage['captures'][number];
export type InterfaceCounters = HealthMessage['interfaces'][number];
export type Disk = HealthMessage['disks'][number];
