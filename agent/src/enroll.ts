/**
 * `pcapmesh-agent enroll --collector URL --token T [--config FILE]`: exchanges a one-time
 * enrolment token (from an admin's `POST /api/v1/admin/sensors`) for this sensor's secret and
 * writes name, secret (mqtt.password) and collectorUrl into the agent's YAML config with mode 0600.
 *
 * Contract:
 * - the config file's other keys (and comments) are kept; a missing file is created; an existing
 *   file keeps its owner and group when root enrols (the packaged agent runs as `pcapmesh` and reads
 *   /etc/pcapmesh/agent.yaml, pcapmesh:pcapmesh 0600, which `sudo pcapmesh-agent enroll` rewrites);
 * - the file is written to a temporary file beside it (0600) and renamed over, so a crash never
 *   leaves a half-written config; the secret is never printed or logged;
 * - a refused token (used, expired, unknown) exits 1 with the collector's message; bad usage exits 2;
 * - an `http://` collector URL is refused (exit 2) unless `--insecure` is given or the host is this
 *   machine (localhost, 127.0.0.0/8, ::1): the answer carries the sensor's secret in clear.
 */
import { chmod, chown, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';

export const ENROLL_USAGE = `usage: pcapmesh-agent enroll --collector URL --token TOKEN [--config FILE]

  --collector URL  the collector's HTTP base URL, e.g. https://collector:8080
  --token TOKEN    the one-time enrolment token an admin created for this sensor
  --config FILE    agent configuration to write (default /etc/pcapmesh/agent.yaml)
  --insecure       allow a plain http:// collector URL on another machine (the secret crosses the
                   network unencrypted); without it only https:// or this machine's http:// is used
`;

export interface EnrollArgs {
  collector: string;
  token: string;
  config: string;
}

/** True for a URL whose host is this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  } catch {
    return false;
  }
}

export function parseEnrollArgs(argv: string[], defaultConfig: string): EnrollArgs | { error: string } {
  const out: Partial<EnrollArgs> = {};
  let insecure = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--insecure') {
      insecure = true;
      continue;
    }
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const key = { '--collector': 'collector', '--token': 'token', '--config': 'config', '-c': 'config' }[flag] as keyof EnrollArgs | undefined;
    if (key === undefined) return { error: `unknown argument ${JSON.stringify(argv[i])}` };
    const value = inline ?? argv[++i];
    if (!value) return { error: `${flag} needs a value` };
    out[key] = value;
  }
  if (!out.collector || !/^https?:\/\/\S+$/.test(out.collector)) return { error: '--collector must be an http:// or https:// URL' };
  if (out.collector.startsWith('http://') && !insecure && !isLoopbackUrl(out.collector)) {
    return {
      error: `--collector ${out.collector} is plain http: the collector's answer carries this sensor's secret unencrypted; use an https:// URL, or add --insecure to accept that`,
    };
  }
  if (!out.token) return { error: '--token is required' };
  return { collector: out.collector.replace(/\/+$/, ''), token: out.token, config: out.config ?? defaultConfig };
}

/** Calls the collector and writes the config; returns the sensor name. Throws with the reason. */
export async function enroll(args: EnrollArgs, fetchImpl: typeof fetch = fetch): Promise<string> {
  let res: Response;
  try {
    res = await fetchImpl(`${args.collector}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: args.token }),
    });
  } catch (err) {
    throw new Error(`cannot reach the collector at ${args.collector}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { sensor?: string; secret?: string; error?: { message?: string } };
  if (!res.ok || typeof body.sensor !== 'string' || typeof body.secret !== 'string') {
    throw new Error(`enrolment refused (HTTP ${res.status}): ${body.error?.message ?? 'unexpected answer'}`);
  }
  await writeAgentConfig(args.config, { name: body.sensor, secret: body.secret, collectorUrl: args.collector });
  return body.sensor;
}

async function writeAgentConfig(path: string, v: { name: string; secret: string; collectorUrl: string }): Promise<void> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new Error(`cannot read ${path}`, { cause: err });
  });
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${path} is not valid YAML: ${doc.errors[0]!.message}`);
  doc.set('name', v.name);
  doc.set('collectorUrl', v.collectorUrl);
  doc.setIn(['mqtt', 'password'], v.secret);
  const owner = await stat(path).catch(() => null);
  const tmp = `${path}.enroll-${process.pid}.tmp`;
  try {
    await writeFile(tmp, doc.toString(), { mode: 0o600 });
    await chmod(tmp, 0o600);
    if (owner && process.getuid?.() === 0) await chown(tmp, owner.uid, owner.gid);
    await rename(tmp, path);
  } catch (err) {
    throw new Error(`cannot write ${path}`, { cause: err });
  }
}
