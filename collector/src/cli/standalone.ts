/**
 * `pcapmesh standalone`: one command runs a whole site on one machine — the collector with its
 * embedded broker (plus PGlite and the memory cache unless configured otherwise) and a local agent,
 * registered as sensor `local`, watching `<dataDir>/pcap`.
 *
 * On each start `local`'s secret is rotated (registered on the first start) and handed to the
 * agent child through its environment (PCAPMESH_AGENT_MQTT__PASSWORD), never through a file or
 * argv. The agent's own configuration is written to `<dataDir>/agent/agent.yaml`.
 *
 * SIGINT/SIGTERM: the agent is stopped first (SIGTERM, SIGKILL after 10 s), then the collector.
 * An agent that exits on its own is restarted after 5 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { entryArgs } from '@pcapmesh/shared/launch';
import { createCollector } from '../app.js';
import { printFirstStartNotes, printReady } from './ready.js';
import { reloadTlsOnHangup, stopOnSignal } from './signals.js';
import type { CliContext } from './context.js';
import { UsageError } from './context.js';
import { isDomainError } from '../domain/errors.js';
import type { SensorService } from '../domain/sensors/sensors.service.js';

export const LOCAL_SENSOR = 'local';
const AGENT_STOP_TIMEOUT_MS = 10_000;
const AGENT_RESTART_DELAY_MS = 5_000;

/** Node arguments that start the agent: its build when present, else its TypeScript source via tsx (as its bin script does). */
export function agentCommand(): string[] {
  return entryArgs(new URL('../../../agent/', import.meta.url), 'main').args;
}

/** Where a local client reaches a listener bound to `host` (wildcard addresses → loopback). */
function brokerHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A new secret for `local`, registering it on the first start. */
async function localSecret(sensors: SensorService): Promise<string> {
  try {
    return await sensors.rotateSecret(LOCAL_SENSOR);
  } catch (err) {
    if (!isDomainError(err, 'not_found')) throw err;
    return (await sensors.register({ name: LOCAL_SENSOR, location: 'local' })).secret;
  }
}

export async function runStandalone({ config, log }: CliContext): Promise<void> {
  if (config.mqtt.mode === 'external') {
    throw new UsageError('standalone runs the embedded broker: unset mqtt.url / MQTT_URL (or run `pcapmesh collector`)');
  }
  const collector = createCollector(config, { log });
  await collector.start();

  let agent: ChildProcess | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopping = false;

  const stopAgent = async (): Promise<void> => {
    clearTimeout(restartTimer);
    const child = agent;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      log.warn({ pid: child.pid }, 'local agent did not stop in time; killing it');
      child.kill('SIGKILL');
    }, AGENT_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  stopOnSignal(async () => {
    stopping = true;
    await stopAgent();
    await collector.stop();
  }, log);
  reloadTlsOnHangup(collector, log);

  try {
    const pcapDir = join(config.dataDir, 'pcap');
    const agentDir = join(config.dataDir, 'agent');
    await mkdir(pcapDir, { recursive: true });
    await mkdir(agentDir, { recursive: true });
    const agentConfigFile = join(agentDir, 'agent.yaml');
    const agentConfig = {
      name: LOCAL_SENSOR,
      location: 'local',
      collectorUrl: collector.httpUrl,
      mqtt: { url: `mqtt://${brokerHost(config.mqtt.host)}:${collector.mqttPort}` },
      stateDir: join(agentDir, 'state'),
      capture: { enabled: false },
      captures: [{ name: 'local', directory: pcapDir }],
    };
    await writeFile(agentConfigFile, JSON.stringify(agentConfig, null, 2)); // JSON is YAML
    const secret = await localSecret(collector.services.sensors);

    const startAgent = () => {
      const child = spawn(process.execPath, [...agentCommand(), '--config', agentConfigFile], {
        env: { ...process.env, PCAPMESH_AGENT_MQTT__PASSWORD: secret },
        stdio: ['ignore', 2, 2], // agent logs join ours on stderr; stdout stays for the ready line
      });
      agent = child;
      log.info({ pid: child.pid, sensor: LOCAL_SENSOR, watching: pcapDir }, 'local agent started');
      child.once('exit', (code, signal) => {
        if (stopping) return;
        log.error({ code, signal, sensor: LOCAL_SENSOR }, `local agent exited; restarting in ${AGENT_RESTART_DELAY_MS / 1000} s`);
        restartTimer = setTimeout(startAgent, AGENT_RESTART_DELAY_MS);
      });
    };
    startAgent();
  } catch (err) {
    stopping = true;
    await stopAgent();
    await collector.stop();
    throw new Error('standalone: starting the local agent failed', { cause: err });
  }

  printFirstStartNotes(collector, { dataDir: config.dataDir });
  printReady({ http: collector.httpUrl, mqtt: collector.mqttPort });
}
