/**
 * Evidence manifests (docs/jobs.md "Evidence manifest"): what a job asked and produced — its
 * parameters, requester, times, each sensor's result SHA-256 and counts, the merged file's SHA-256
 * and the software version — signed as a compact JWS (EdDSA over Ed25519).
 *
 * Contract:
 * - the key pair is made on the first start and kept in `auth_secrets` (`evidence-ed25519`, the
 *   private key as a JWK), shared by every collector on that database; the private half is never
 *   logged or returned. `publicJwks()` is what GET /api/v1/jobs/manifest-key serves.
 * - the JWS header is `{ alg: 'EdDSA', kid, typ: 'pcapmesh-evidence+jws' }` with `kid` the key's
 *   RFC 7638 thumbprint; the payload is the manifest's JSON.
 * - `verifyEvidence` needs no database or network (the `pcapmesh job verify` CLI runs it offline):
 *   it checks the signature against the given JWK Set and the result file's SHA-256 against the
 *   merged file's entry or, failing that, a sensor's entry; `ok` only when both hold. Each problem
 *   is named by a code.
 *
 * @example
 *   const signer = await ManifestSigner.open({ db });
 *   const jws = await signer.sign(manifest);
 *   const { ok, problems } = await verifyEvidence(jws, 'result.pcap', signer.publicJwks());
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, CompactSign, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, type JWK } from 'jose';
import type { Queryable } from '../../storage/db.js';
import { ensureSecret } from '../../storage/auth-secrets.repo.js';
import type { EvidenceManifest } from './jobs.types.js';
import { hashFile } from './result-files.js';

/** Name of the signing key in `auth_secrets`. */
export const MANIFEST_KEY_SECRET_NAME = 'evidence-ed25519';
export const MANIFEST_JWS_TYPE = 'pcapmesh-evidence+jws';

export class ManifestSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicJwk: JWK & { kid: string },
  ) {}

  /** Loads (or on the first start creates) the key pair from the database. */
  static async open(opts: { db: Queryable }): Promise<ManifestSigner> {
    const fresh = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const stored = await ensureSecret(opts.db, MANIFEST_KEY_SECRET_NAME, JSON.stringify(fresh));
    return ManifestSigner.fromPrivateJwk(JSON.parse(stored) as JsonWebKey);
  }

  /** From an Ed25519 private JWK ({kty: 'OKP', crv: 'Ed25519', d, x}). */
  static async fromPrivateJwk(jwk: JsonWebKey): Promise<ManifestSigner> {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new Error('evidence key is not an Ed25519 private JWK');
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
    const kid = await calculateJwkThumbprint({ kty, crv, x });
    return new ManifestSigner(privateKey, { kty, crv, x, kid, alg: 'EdDSA', use: 'sig' });
  }

  get keyId(): string {
    return this.publicJwk.kid;
  }

  /** The public key as a JWK Set (GET /api/v1/jobs/manifest-key; `pcapmesh job verify --key`). */
  publicJwks(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** The compact JWS of `manifest`. */
  async sign(manifest: EvidenceManifest): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(manifest)))
      .setProtectedHeader({ alg: 'EdDSA', kid: this.publicJwk.kid, typ: MANIFEST_JWS_TYPE })
      .sign(this.privateKey);
  }
}

// ─── building ────────────────────────────────────────────────────────────────────────────────────

export interface ManifestInput {
  job: {
    id: string;
    name: string | null;
    owner: string;
    windowFrom: Date;
    windowTo: Date;
    windowNs: { from: string; to: string };
    filterExpression: string;
    createdAt: Date;
  };
  status: EvidenceManifest['status'];
  completedAt: Date;
  tasks: {
    id: string;
    sensor: string;
    status: EvidenceManifest['sensors'][number]['status'];
    packets: number | null;
    bytes: number | null;
    fileBytes: number | null;
    sha256: string | null;
    truncated: string | null;
    /** The upload was verified: the counts and hash are the result's. */
    complete: boolean;
  }[];
  merged: EvidenceManifest['merged'];
  version: string;
}

/** The manifest of a merged job. A sensor without a verified result has zeros and no hash. */
export function buildManifest(input: ManifestInput): EvidenceManifest {
  const { job } = input;
  return {
    type: 'pcapmesh.evidence',
    version: 1,
    job: job.id,
    name: job.name,
    requester: job.owner,
    window: { from: job.windowFrom.toISOString(), to: job.windowTo.toISOString(), fromNs: job.windowNs.from, toNs: job.windowNs.to },
    filter: job.filterExpression,
    submittedAt: job.createdAt.toISOString(),
    completedAt: input.completedAt.toISOString(),
    status: input.status,
    sensors: input.tasks.map((t) => ({
      sensor: t.sensor,
      task: t.id,
      status: t.status,
      packets: t.complete ? (t.packets ?? 0) : 0,
      bytes: t.complete ? (t.bytes ?? 0) : 0,
      fileBytes: t.complete ? (t.fileBytes ?? 0) : 0,
      sha256: t.complete ? t.sha256 : null,
      truncated: t.complete ? t.truncated : null,
    })),
    merged: input.merged,
    software: { name: 'pcapmesh', version: input.version },
  };
}

// ─── verifying (offline) ─────────────────────────────────────────────────────────────────────────

export type EvidenceProblemCode = 'format' | 'no-key' | 'signature' | 'file' | 'file-hash';

export interface EvidenceProblem {
  code: EvidenceProblemCode;
  message: string;
}

export interface EvidenceVerdict {
  /** Signature valid with the given key and the file is the merged result or one sensor's. */
  ok: boolean;
  /** The payload, when it parses as a manifest (shown even when the signature fails: read it with care). */
  manifest: EvidenceManifest | null;
  /** Which entry the file matched. */
  matched: { kind: 'merged' } | { kind: 'sensor'; sensor: string; task: string } | null;
  /** The file's SHA-256 and size, when it could be read. */
  file: { sha256: string; size: number } | null;
  /** `kid` of the JWS header. */
  keyId: string | null;
  problems: EvidenceProblem[];
}

/**
 * Checks a manifest JWS and a result file. Never throws for bad input: every fault is a problem.
 * @param jwks the collector's public JWK Set (GET /api/v1/jobs/manifest-key); without it the
 *   signature cannot be checked and the verdict is not ok.
 */
export async function verifyEvidence(jws: string, resultFilePath: string, jwks?: JSONWebKeySet): Promise<EvidenceVerdict> {
  const problems: EvidenceProblem[] = [];
  const text = jws.trim();
  let keyId: string | null = null;
  let manifest: EvidenceManifest | null = null;
  let decodable = false;
  try {
    const header = decodeProtectedHeader(text);
    keyId = typeof header.kid === 'string' ? header.kid : null;
    decodable = true;
    if (header.alg !== 'EdDSA') problems.push({ code: 'format', message: `JWS algorithm ${String(header.alg)}, expected EdDSA` });
    manifest = parseManifest(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (manifest === null)
      problems.push({ code: 'format', message: 'the JWS payload is not a pcapmesh evidence manifest (type pcapmesh.evidence, version 1)' });
  } catch (err) {
    problems.push({ code: 'format', message: `not a compact JWS: ${(err as Error).message}` });
  }

  if (!jwks) {
    problems.push({ code: 'no-key', message: "signature not checked: no public key given (the collector's GET /api/v1/jobs/manifest-key)" });
  } else if (decodable) {
    try {
      await compactVerify(text, createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
    } catch (err) {
      const code = (err as { code?: string }).code;
      problems.push({
        code: 'signature',
        message:
          code === 'ERR_JWKS_NO_MATCHING_KEY'
            ? `no key in the given key set matches the manifest's key ${keyId ?? '(no kid)'}`
            : `the signature does not verify: the manifest was altered or signed by another key (${(err as Error).message})`,
      });
    }
  }

  let file: EvidenceVerdict['file'] = null;
  let matched: EvidenceVerdict['matched'] = null;
  try {
    file = await hashFile(resultFilePath);
  } catch (err) {
    problems.push({ code: 'file', message: `cannot read ${resultFilePath}: ${(err as Error).message}` });
  }
  if (file && manifest) {
    const sensor = manifest.sensors.find((s) => s.sha256 === file.sha256 && s.fileBytes === file.size);
    if (manifest.merged.sha256 === file.sha256 && manifest.merged.fileBytes === file.size) matched = { kind: 'merged' };
    else if (sensor) matched = { kind: 'sensor', sensor: sensor.sensor, task: sensor.task };
    else {
      problems.push({
        code: 'file-hash',
        message: `${resultFilePath} (SHA-256 ${file.sha256}, ${file.size} bytes) is neither the merged capture (${manifest.merged.sha256}, ${manifest.merged.fileBytes} bytes) nor any sensor's result in the manifest`,
      });
    }
  }
  return { ok: problems.length === 0 && matched !== null, manifest, matched, file, keyId, problems };
}

function parseManifest(json: string): EvidenceManifest | null {
  try {
    const value = JSON.parse(json) as Partial<EvidenceManifest> | null;
    if (value === null || typeof value !== 'object' || value.type !== 'pcapmesh.evidence' || value.version !== 1) return null;
    if (!Array.isArray(value.sensors) || typeof value.merged !== 'object' || value.merged === null) return null;
    return value as EvidenceManifest;
  } catch {
    return null;
  }
}
