/**
 * The external Mosquitto 2 of scripts/services.sh: its collector account and sensor accounts that
 * tests add to its password file (then SIGHUP, which makes Mosquitto reload passwords and ACLs).
 * The ACL gives every account `sensors/<its name>/#` to write and `commands/<its name>/#` to read.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ExternalBroker } from './collector.js';
import { requireEnv, requireTool } from './env.js';
import { connectClient } from './mqtt-client.js';
import type { TestScope } from './scope.js';
import { eventually } from './wait.js';

export interface Mosquitto {
  /** The collector's account. */
  collector: ExternalBroker;
  /** Adds (or resets) a sensor account and waits until Mosquitto accepts it; removed at the end of the test. */
  addSensor(name: string, secret: string): Promise<void>;
}

/** The Mosquitto of scripts/services.sh, or null when the test was skipped (outside CI). */
export function externalMosquitto(scope: TestScope): Mosquitto | null {
  const t = scope.t;
  const url = requireEnv(t, 'PCAPMESH_TEST_MQTT_URL', 'Mosquitto');
  const username = url && requireEnv(t, 'PCAPMESH_TEST_MQTT_USERNAME', 'Mosquitto collector account');
  const password = username && requireEnv(t, 'PCAPMESH_TEST_MQTT_PASSWORD', 'Mosquitto collector account');
  const passwordFile = password && requireEnv(t, 'PCAPMESH_TEST_MQTT_PASSWORD_FILE', 'Mosquitto password file');
  const pidFile = passwordFile && requireEnv(t, 'PCAPMESH_TEST_MQTT_PID_FILE', 'Mosquitto pid file');
  const mosquittoPasswd = pidFile && requireTool(t, 'mosquitto_passwd');
  if (!url || !username || !password || !passwordFile || !pidFile || !mosquittoPasswd) return null;
  return {
    collector: { url, username, password },
    async addSensor(name, secret) {
      const reload = () => process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGHUP');
      execFileSync(mosquittoPasswd, ['-b', passwordFile, name, secret]);
      scope.defer(() => {
        execFileSync(mosquittoPasswd, ['-D', passwordFile, name]);
        reload();
      });
      reload();
      await eventually(
        async () => {
          const client = await connectClient({ url, username: name, password: secret, clientId: `${name}-probe` });
          await client.endAsync();
          return true;
        },
        { what: `Mosquitto to accept sensor account ${name}`, timeoutMs: 10_000, intervalMs: 200 },
      );
    },
  };
}
