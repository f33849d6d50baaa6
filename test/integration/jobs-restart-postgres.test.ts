/**
 * Issue #10: collector kill -9 during dispatch, uploads and merge, restarted — same result
 * (harness/job-restart.ts), on PostgreSQL.
 */
import { integrationTest } from './harness.js';
import { collectorKillsKeepTheResult } from './harness/job-restart.js';

integrationTest('jobs: collector kill -9 during dispatch, uploads and merge → same result [postgres]', (scope) =>
  collectorKillsKeepTheResult(scope, 'postgres'),
);
