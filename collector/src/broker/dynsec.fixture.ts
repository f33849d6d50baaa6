/**
 * A throw-away Mosquitto 2 for tests, on a free loopback port with its files in a temp dir: with
 * the dynamic security plugin (its JSON file made by `mosquitto_ctrl dynsec init`, admin
 * `pcapmesh-collector`), or without it (anonymous logins allowed, so a collector connects and then
 * finds no plugin). `stop()` ends the process and removes the directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { freePort } from '@pcapmesh/shared/util/testing';

export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export interface TestMosquitto {
  url: string;
  /** The broker's process id (CPU time in benches). */
  pid: number;
  /** The plugin's JSON file. */
  dynsecFile: string;
  admin: { username: string; password: string };
  /** The broker's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function startTestMosquitto(tools: { mosquitto: string; mosquittoCtrl: string }, opts: { plugin: boolean }): Promise<TestMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-dynsec-'));
  const port = await freePort();
  const admin = { username: 'pcapmesh-collector', password: randomBytes(12).toString('hex') };
  const dynsecFile = join(dir, 'dynamic-security.json');
  const logFile = join(dir, 'mosquitto.log');
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', `log_dest file ${logFile}`, 'log_type all'];
  if (opts.plugin) {
    execFileSync(tools.mosquittoCtrl, ['dynsec', 'init', dynsecFile, admin.username, admin.password], { stdio: 'ignore' });
    lines.push('allow_anonymous false', `plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${dynsecFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  // As root, Mosquitto would switch to the `mosquitto` user, which cannot write the temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = spawn(tools.mosquitto, ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const url = `mqtt://127.0.0.1:${port}`;
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  for (let i = 0; ; i++) {
    try {
      const probe = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 2_000, ...(opts.plugin ? admin : {}) }, false);
      await probe.endAsync();
      break;
    } catch (err) {
      if (i > 100 || proc.exitCode !== null) {
        proc.kill('SIGKILL');
        throw new Error(`mosquitto did not start on ${url}:\n${readLog()}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: proc.pid ?? 0,
    dynsecFile,
    admin,
    log: readLog,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
