/**
 * Certificate files named in the configuration (http.tls, mqtt.tls), read and checked before
 * anything listens: a path that cannot be read, a file that is not PEM, or a key that does not
 * belong to its certificate is refused as a ConfigError with one problem naming the key and the
 * reason (`http.tls.keyFile: does not match the certificate in http.tls.certFile`). The same reads
 * serve SIGHUP reloads, where a bad file keeps the old certificate in use.
 *
 * @example
 *   const pair = readTlsPair(config.http.tls, 'http.tls'); // { cert, key } Buffers, or throws ConfigError
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the leaf certificate (AA:BB:…), for logs. */
  fingerprint: string;
  /** The leaf certificate's notAfter, for logs. */
  validTo: string;
}

function problem(key: string, reason: string): ConfigError {
  return new ConfigError([`${key}: ${reason}`], 'certificate files');
}

function readFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw problem(key, `cannot read ${path} (${why})`);
  }
}

function parseCertificate(pem: Buffer, path: string, key: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw problem(key, `${path} holds no PEM certificate`);
  }
}

/** Reads certFile and keyFile of `tls` (both set) and checks that the key is the certificate's. */
export function readTlsPair(tls: { certFile?: string | undefined; keyFile?: string | undefined }, prefix: string): TlsPair {
  if (tls.certFile === undefined || tls.keyFile === undefined) throw problem(`${prefix}.certFile`, 'certFile and keyFile must both be set');
  const cert = readFile(tls.certFile, `${prefix}.certFile`);
  const key = readFile(tls.keyFile, `${prefix}.keyFile`);
  const x509 = parseCertificate(cert, tls.certFile, `${prefix}.certFile`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw problem(`${prefix}.keyFile`, `${tls.keyFile} holds no PEM private key (or it is encrypted)`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw problem(`${prefix}.keyFile`, `${tls.keyFile} does not match the certificate in ${prefix}.certFile (${tls.certFile})`);
  }
  return { cert, key, fingerprint: x509.fingerprint256, validTo: x509.validTo };
}

/** Reads a PEM CA file and checks that it holds a certificate. */
export function readCaFile(path: string, key: string): Buffer {
  const pem = readFile(path, key);
  if (!parseCertificate(pem, path, key).ca) throw problem(key, `${path} is not a CA certificate (basicConstraints CA:FALSE)`);
  return pem;
}
