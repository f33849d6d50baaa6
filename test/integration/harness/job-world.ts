/**
 * A job test's world: one real collector, one real agent per sensor watching that sensor's capture
 * directory, an admin client of the job API, and optionally a cutting proxy on the upload path
 * (the collector's `http.publicUrl` and the agents' `collectorUrl` point at it, so every task upload
 * crosses it while MQTT goes direct).
 *
 * @example
 *   const world = await JobWorld.start(scope, { backend, sensors: buildOverlappingSensors(dir) });
 *   const { job } = await world.jobs.submit({ window, filter: { expression: 'tcp' }, targets: { auto: true } });
 */
import type { PcapSourceView } from '../../../collector/src/domain/sensors/sensors.types.js';
import { Agent } from './agent.js';
import type { Backend } from './backends.js';
import { Collector } from './collector.js';
import { CuttingProxy } from './cutting-proxy.js';
import { JobsClient, login } from './jobs-api.js';
import type { TestScope } from './scope.js';
import { eventually } from './wait.js';

export interface WorldSensorSpec {
  name: string;
  location: string;
  directory: string;
}

export interface JobWorldOptions {
  backend: Backend;
  sensors: readonly WorldSensorSpec[];
  /** Merged over the collector's test configuration. */
  collectorConfig?: Record<string, unknown>;
  /** Merged over each agent's test configuration. */
  agentConfig?: Record<string, unknown>;
  /** Put a cutting proxy on the upload path. */
  proxy?: boolean;
  /** Sensors whose agents are not started (default: all start). */
  notStarted?: readonly string[];
}

export class JobWorld {
  private constructor(
    readonly scope: TestScope,
    readonly collector: Collector,
    readonly agents: ReadonlyMap<string, Agent>,
    readonly jobs: JobsClient,
    readonly proxy: CuttingProxy | null,
  ) {}

  static async start(scope: TestScope, opts: JobWorldOptions): Promise<JobWorld> {
    const collector = await Collector.create(scope, {
      backend: opts.backend,
      healthIntervalSeconds: 60,
      ...(opts.collectorConfig ? { extraConfig: opts.collectorConfig } : {}),
    });
    const proxy = opts.proxy ? await CuttingProxy.start(scope, { port: collector.httpPort }) : null;
    if (proxy) collector.configure({ http: { publicUrl: proxy.url } });
    await collector.start();
    const admin = new JobsClient(collector.api.baseUrl, collector.apiToken);
    // Registered through the API (enrolment token, then /enroll): a `pcapmesh sensor add` process per
    // sensor costs 10–30 s on a loaded machine.
    const secrets = new Map<string, string>();
    for (const s of opts.sensors) {
      const { enrolment } = await admin.expect<{ enrolment: { token: string } }>(201, 'POST', '/admin/sensors', { name: s.name, location: s.location });
      const { secret } = await admin.expect<{ secret: string }>(200, 'POST', '/enroll', { token: enrolment.token });
      secrets.set(s.name, secret);
    }
    const agents = new Map<string, Agent>();
    for (const s of opts.sensors) {
      agents.set(
        s.name,
        new Agent(scope, {
          name: s.name,
          secret: secrets.get(s.name)!,
          mqttUrl: collector.mqttUrl,
          location: s.location,
          collectorUrl: proxy?.url ?? collector.api.baseUrl,
          captures: [{ name: 'ring', directory: s.directory }],
          healthSeconds: 5,
          availabilitySeconds: 2,
          ...(opts.agentConfig ? { extraConfig: opts.agentConfig } : {}),
        }),
      );
    }
    const world = new JobWorld(scope, collector, agents, admin, proxy);
    const starting = opts.sensors.filter((s) => !opts.notStarted?.includes(s.name)).map((s) => s.name);
    for (const name of starting) world.agent(name).start();
    await Promise.all(starting.map((name) => world.waitForAvailability(name)));
    return world;
  }

  agent(name: string): Agent {
    const agent = this.agents.get(name);
    if (!agent) throw new Error(`no agent ${name} in this world`);
    return agent;
  }

  /** Waits until the sensor is online and the collector holds availability with files for its ring. */
  async waitForAvailability(name: string, timeoutMs = 60_000): Promise<PcapSourceView> {
    await this.collector.api.waitForStatus(name, 'online', timeoutMs);
    return eventually(async () => (await this.collector.api.sensor(name)).pcap.sources.find((s) => s.name === 'ring' && s.files > 0), {
      what: `availability of ${name}'s ring in the API`,
      timeoutMs,
    });
  }

  /** Adds a user through the admin API and signs them in; returns a job client acting as them. */
  async userClient(username: string, role: 'admin' | 'analyst' | 'viewer'): Promise<JobsClient> {
    const password = `pw-${username}-${Math.random().toString(36).slice(2)}-Long`;
    await this.jobs.expect(201, 'POST', '/admin/users', { username, role, password });
    return this.jobs.as(await login(this.collector.api.baseUrl, username, password));
  }
}
