/**
 * A PostgreSQL server of one test's own (initdb into the test's scratch directory, a free port), so
 * the test can stop and start it without touching the shared one of scripts/services.sh. Uses
 * Debian's server binaries (/usr/lib/postgresql/<v>/bin) like services.sh; as root it runs as the
 * `postgres` user (PostgreSQL refuses root). Stopped and removed at the end of the test.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inCi } from '../../integration/harness.js';
import type { TestScope } from '../../integration/harness.js';
import { freePort } from '../../integration/harness.js';

export interface OwnPostgres {
  url: string;
  port: number;
  /** pg_ctl stop -m fast (connections cut, as in a crash of the service). */
  stop(): void;
  start(): void;
}

function pgBin(): string | null {
  for (const v of [15, 16, 17, 18]) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

/** Starts a server of the test's own, or returns null when the binaries are missing (skipped; CI fails). */
export async function ownPostgres(scope: TestScope): Promise<OwnPostgres | null> {
  const bin = pgBin();
  if (bin === null) {
    const message = 'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt package postgresql)';
    if (inCi()) throw new Error(`${message}; CI=true requires them`);
    scope.t.skip(message);
    return null;
  }
  const root = process.getuid?.() === 0;
  const data = join(scope.dir, 'pgdata');
  mkdirSync(data, { recursive: true });
  chmodSync(data, 0o700);
  if (root) {
    // The scratch dir is the test's (mode 700 from mkdtemp): postgres must reach its data dir.
    chmodSync(scope.dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(data, uid, gid);
  }
  const run = (args: string[]) =>
    execFileSync(root ? 'runuser' : args[0]!, root ? ['-u', 'postgres', '--', ...args] : args.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  run([join(bin, 'initdb'), '-D', data, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${data} -c fsync=off -c synchronous_commit=off -c max_connections=50`;
  const pgCtl = (action: string[]) => run([join(bin, 'pg_ctl'), '-D', data, '-l', join(data, 'server.log'), '-w', '-t', '60', ...action]);
  const server: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => pgCtl(['-o', options, 'start']),
    stop: () => pgCtl(['-m', 'fast', 'stop']),
  };
  server.start();
  scope.defer(() => {
    try {
      server.stop();
    } catch {
      /* already stopped */
    }
  });
  return server;
}
