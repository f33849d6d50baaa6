/**
 * `pcapmesh job verify MANIFEST.jws RESULT.pcap [--key jwks.json]`: checks an evidence manifest's
 * signature and that the file is the merged capture (or one sensor's result) it names, with
 * domain/jobs/manifest.ts verifyEvidence. With `--key` it runs offline; without, it fetches the
 * collector's public key set (GET /api/v1/jobs/manifest-key, no token needed) from --url, else
 * PCAPMESH_URL, else the configuration's HTTP address.
 *
 * MANIFEST may hold the compact JWS (`GET /jobs/{id}/manifest?format=jws`) or the JSON answer
 * `{ jws, manifest }`. Exit status 0 only when the evidence is valid; every problem is printed.
 */
import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import { verifyEvidence } from '../domain/jobs/manifest.js';
import { UsageError } from './context.js';
import { collectorUrl, type ConnectionOptions } from './job-client.js';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** The compact JWS of a manifest file (compact form, or the JSON `{ jws }` answer). */
function jwsOf(text: string, path: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const parsed = JSON.parse(trimmed) as { jws?: unknown };
    if (typeof parsed.jws === 'string') return parsed.jws;
  } catch {
    // fall through
  }
  throw new UsageError(`${path}: neither a compact JWS nor the JSON { jws, manifest } of GET /jobs/{id}/manifest`);
}

/** A JWK Set, or a single JWK wrapped into one. */
function keySetOf(text: string, path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--key ${path}: not JSON (expected the JWK Set of GET /api/v1/jobs/manifest-key)`);
  }
  if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys)) return parsed as JSONWebKeySet;
  if (typeof parsed === 'object' && parsed !== null && 'kty' in parsed) return { keys: [parsed as JSONWebKeySet['keys'][number]] };
  throw new UsageError(`--key ${path}: neither a JWK Set ({ "keys": [...] }) nor a JWK`);
}

async function fetchKeySet(opts: ConnectionOptions): Promise<JSONWebKeySet> {
  const url = `${collectorUrl(opts)}/api/v1/jobs/manifest-key`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`cannot fetch the manifest key from ${url} (use --key FILE to verify offline)`, { cause: err });
  }
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return keySetOf(await res.text(), url);
}

export async function verifyCommand(
  manifestPath: string,
  resultPath: string,
  opts: { key: string | undefined; json: boolean; connection: ConnectionOptions },
): Promise<number> {
  const jws = jwsOf(await readText(manifestPath, 'the manifest'), manifestPath);
  const jwks = opts.key !== undefined ? keySetOf(await readText(opts.key, 'the key set'), opts.key) : await fetchKeySet(opts.connection);
  const verdict = await verifyEvidence(jws, resultPath, jwks);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
    return verdict.ok ? 0 : 1;
  }
  const m = verdict.manifest;
  if (m) {
    process.stdout.write(
      `job        ${m.job}${m.name ? `  (${m.name})` : ''}, ${m.status}\n` +
        `requester  ${m.requester}\n` +
        `window     ${m.window.from} … ${m.window.to}\n` +
        `filter     ${m.filter === '' ? '(everything)' : m.filter}\n` +
        `completed  ${m.completedAt} by ${m.software.name} ${m.software.version}\n`,
    );
  }
  if (verdict.file) process.stdout.write(`file       ${resultPath}: ${verdict.file.size} bytes, sha256 ${verdict.file.sha256}\n`);
  if (verdict.ok) {
    const what = verdict.matched?.kind === 'sensor' ? `sensor ${verdict.matched.sensor}'s result (task ${verdict.matched.task})` : 'the merged capture';
    process.stdout.write(`VALID: signed by key ${verdict.keyId ?? '?'}; the file is ${what}\n`);
    return 0;
  }
  process.stdout.write('NOT VALID:\n');
  for (const problem of verdict.problems) process.stdout.write(`  ${problem.code}: ${problem.message}\n`);
  return 1;
}
