/**
 * `pcapmesh certs init [DIR]` and `pcapmesh certs sensor NAME [--dir DIR]`: a private CA for a quick
 * secure install, a server certificate for the collector (HTTPS and MQTTS) and client certificates
 * for sensors (MQTTS with mqtt.tls.clientCaFile).
 *
 * Made with the `openssl` command (Debian's openssl package, present on every install): node:crypto
 * makes keys but cannot issue X.509 certificates, and openssl needs no new npm dependency to pin and
 * audit. Keys are P-256 EC keys made by node:crypto and written 0600 before openssl reads them (no
 * moment where a key is readable by others); certificates are 0644. Nothing is overwritten without
 * --force.
 *
 * Layout of DIR (default `<dataDir>/tls`):
 *   ca.crt ca.key                    the CA (10 years); keep ca.key offline once sensors are issued
 *   server.crt server.key            CN = the first host name; SANs = every host name and IP given
 *                                    (default: this machine's name, localhost, 127.0.0.1, ::1 and its
 *                                    non-internal addresses); serverAuth; 825 days
 *   sensors/NAME.crt sensors/NAME.key  CN = NAME; clientAuth; 825 days
 *
 * @example
 *   pcapmesh certs init /etc/pcapmesh/tls --host collector.example.org --host 10.0.0.5
 *   pcapmesh certs sensor edge-1 --dir /etc/pcapmesh/tls
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isValidSensorName } from '@pcapmesh/shared/wire';
import { UsageError } from './context.js';

const run = promisify(execFile);

const CA_DAYS = 3650;
const LEAF_DAYS = 825;

export interface CertsInitOptions {
  /** Host names and IP addresses of the collector (SANs). Default: defaultHosts(). */
  hosts?: string[];
  /** Replace existing files. */
  force?: boolean;
}

/** This machine's name, localhost, the loopback addresses and every non-internal address. */
export function defaultHosts(): string[] {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a!.address);
  return [...new Set([hostname(), 'localhost', '127.0.0.1', '::1', ...addresses])];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('certs: the openssl command is not installed (apt-get install openssl)', { cause: err });
    throw new Error(`certs: openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** A new P-256 key written 0600 (refuses to replace a file unless force). */
async function writeKey(path: string, force: boolean): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  if (force) await rm(path, { force: true });
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600); // whatever the umask
}

/** Issues `name`.crt under dir, signed by the CA in caDir, with the given extensions. */
async function issue(opts: { caDir: string; keyFile: string; certFile: string; subject: string; extensions: string[] }): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'pcapmesh-certs-'));
  try {
    const csr = join(work, 'req.csr');
    const ext = join(work, 'ext.cnf');
    await writeFile(ext, `${opts.extensions.join('\n')}\n`);
    await openssl(['req', '-new', '-key', opts.keyFile, '-subj', opts.subject, '-out', csr]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(opts.caDir, 'ca.crt'),
      '-CAkey',
      join(opts.caDir, 'ca.key'),
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(LEAF_DAYS),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      opts.certFile,
    ]);
    await chmod(opts.certFile, 0o644);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** An X.509 subject value with `/`, `+`, `,`, `=` and `\` escaped for `openssl -subj`. */
function subjectValue(text: string): string {
  return text.replace(/[\\/+,=]/g, (c) => `\\${c}`);
}

/** Makes the CA and the server certificate in `dir`; returns the files written. */
export async function certsInit(dir: string, opts: CertsInitOptions = {}): Promise<string[]> {
  const hosts = opts.hosts && opts.hosts.length > 0 ? opts.hosts : defaultHosts();
  for (const host of hosts) {
    if (!/^[A-Za-z0-9.*:-]+$/.test(host)) throw new UsageError(`--host ${JSON.stringify(host)}: not a host name or IP address`);
  }
  const files = ['ca.key', 'ca.crt', 'server.key', 'server.crt'].map((f) => join(dir, f));
  if (!opts.force) {
    for (const file of files) if (await exists(file)) throw new UsageError(`${file} exists: pass --force to replace the CA and server certificate`);
  }
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const [caKey, caCrt, serverKey, serverCrt] = files as [string, string, string, string];
  await writeKey(caKey, opts.force === true);
  const first = hosts.find((h) => isIP(h) === 0) ?? hosts[0]!;
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-subj',
    `/CN=${subjectValue(`pcapmesh CA ${first}`)}`,
    '-days',
    String(CA_DAYS),
    '-sha256',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caCrt,
  ]);
  await chmod(caCrt, 0o644);
  await writeKey(serverKey, opts.force === true);
  const san = hosts.map((h) => (isIP(h) !== 0 ? `IP:${h}` : `DNS:${h}`)).join(',');
  await issue({
    caDir: dir,
    keyFile: serverKey,
    certFile: serverCrt,
    subject: `/CN=${subjectValue(first)}`,
    extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`],
  });
  return files;
}

/** Makes sensors/NAME.crt and .key in `dir`, signed by its CA; returns the files written. */
export async function certsSensor(dir: string, name: string, opts: { force?: boolean } = {}): Promise<string[]> {
  if (!isValidSensorName(name)) throw new UsageError(`sensor name ${JSON.stringify(name)} is not valid (letters, digits, . _ -)`);
  for (const f of ['ca.crt', 'ca.key']) {
    if (!(await exists(join(dir, f)))) throw new UsageError(`${join(dir, f)} not found: run \`pcapmesh certs init ${dir}\` first (or pass --dir)`);
  }
  const sensorDir = join(dir, 'sensors');
  const keyFile = join(sensorDir, `${name}.key`);
  const certFile = join(sensorDir, `${name}.crt`);
  if (!opts.force) {
    for (const file of [keyFile, certFile]) if (await exists(file)) throw new UsageError(`${file} exists: pass --force to replace it`);
  }
  await mkdir(sensorDir, { recursive: true, mode: 0o700 });
  await writeKey(keyFile, opts.force === true);
  await issue({
    caDir: dir,
    keyFile,
    certFile,
    subject: `/CN=${subjectValue(name)}`,
    extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'],
  });
  return [keyFile, certFile];
}
