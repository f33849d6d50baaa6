/**
 * log.format auto, as an operator sees it (#15): `pcapmesh collector` started on a terminal (a pty
 * from util-linux `script`) writes readable lines; the same start into a pipe writes JSON lines.
 * Both starts are refused at the HTTP port (held by the test) after the database opened, so each
 * logs a few lines and exits by itself with the one-line refusal.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { COLLECTOR_MAIN, NODE_TS_ARGS, integrationTest, repoRoot, requireTool, type TestScope } from './harness.js';

/** An ANSI colour sequence (ESC [ n m). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');

async function run(scope: TestScope, name: string, command: string, args: string[]): Promise<string> {
  const proc = scope.spawn({ name, command, args, cwd: repoRoot });
  const timer = setTimeout(() => proc.killGroup(), 180_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  assert.equal(exit.code, 2, `${name}: exit status 2 expected (the HTTP port is held):\n${proc.tail()}`);
  // The harness prefixes stderr lines; a pty merges stderr into stdout and ends lines with \r\n.
  return proc
    .output()
    .replace(/\r/g, '')
    .replace(/^\[std(out|err)\] /gm, '')
    .replace(ANSI_COLOUR, '');
}

integrationTest('logs: readable lines on a terminal, JSON lines into a pipe', async (scope) => {
  const script = requireTool(scope.t, 'script');
  if (script === null) return;
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  scope.defer(() => void holder.close());
  const busy = (holder.address() as AddressInfo).port;
  const configFile = (name: string) => {
    const file = join(scope.dir, `${name}.yaml`);
    writeFileSync(file, JSON.stringify({ dataDir: join(scope.dir, name), database: { url: 'memory://' }, http: { port: busy }, mqtt: { port: 0 } }));
    return file;
  };
  const command = (file: string) => [process.execPath, ...NODE_TS_ARGS, COLLECTOR_MAIN, 'collector', '--config', file];
  const [tty, pipe] = await Promise.all([
    // script -q: no banner; -e: its exit status is the command's; -c: the command line (paths have no spaces).
    run(scope, 'on-a-terminal', script, ['-qec', command(configFile('tty')).join(' '), '/dev/null']),
    run(scope, 'into-a-pipe', process.execPath, command(configFile('pipe')).slice(1)),
  ]);

  const readable = /^\d\d:\d\d:\d\d\.\d{3} INFO {2}collector database open database=memory:\/\/ kind=pglite$/m;
  assert.match(tty, readable, `a readable line on the terminal:\n${tty}`);
  assert.doesNotMatch(tty, /^\{"level"/m, `no JSON line on the terminal:\n${tty}`);
  assert.match(tty, /^pcapmesh: invalid configuration: http\.port: /m);

  assert.match(pipe, /^\{"level":30,.*"msg":"database open"\}$/m, `JSON lines into a pipe:\n${pipe}`);
  assert.doesNotMatch(pipe, readable);
});
