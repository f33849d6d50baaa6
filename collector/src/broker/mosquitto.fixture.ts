/** Test fixture: a Mosquitto of a test's own, for the collector as a client of an external broker. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { freePort } from '@pcapmesh/shared/util/testing';

export interface TestMosquitto {
  url: string;
  /** Stops it with SIGTERM (it saves its database) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throw-away Mosquitto 2 (Debian's `mosquitto`) on a free loopback port (anonymous; persistence off unless asked, then in
 * its own directory, run as the invoking user so it can write there). `restart()` stops it with
 * SIGTERM (it saves its database) and starts it again on the same port.
 */
export async function startMosquitto(binary: string, opts: { persistence?: boolean } = {}): Promise<TestMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const persistence = opts.persistence
    ? [`persistence true`, `persistence_location ${dir}/`, ...(process.getuid?.() === 0 ? ['user root'] : [])]
    : ['persistence false'];
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...persistence, ''].join('\n'));
  const url = `mqtt://127.0.0.1:${port}`;
  let proc = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  const ready = async () => {
    for (let i = 0; ; i++) {
      try {
        const probe = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 }, false);
        await probe.endAsync();
        return;
      } catch (err) {
        if (i > 100) throw new Error('mosquitto did not start', { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const halt = async () => {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  };
  await ready();
  return {
    url,
    async restart() {
      await halt();
      proc = spawn(binary, ['-c', conf], { stdio: 'ignore' });
      await ready();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
