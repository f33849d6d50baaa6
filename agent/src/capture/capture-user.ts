/**
 * The user tcpdump drops to (`tcpdump -Z`, config `capture.user`) once it has opened the capture
 * device, so a parser bug in tcpdump runs without root. Looked up once at start through the
 * system's user database (`id`, so NSS users count too): a user that does not exist is a clear
 * configuration error before anything starts.
 *
 * Only a tcpdump started as root changes user; the packaged agent runs as `pcapmesh` with
 * CAP_NET_RAW, where tcpdump already has no root to drop.
 */
import { execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { ConfigError } from '@pcapmesh/shared/util/config';

export interface CaptureUser {
  name: string;
  uid: number;
  gid: number;
}

/** Resolves `name` to its ids; throws ConfigError naming the key and what to do when it does not exist. */
export function resolveCaptureUser(name: string, idPath = 'id'): CaptureUser {
  const ask = (flag: '-u' | '-g'): number => {
    try {
      return Number(
        execFileSync(idPath, [flag, '--', name], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        }).trim(),
      );
    } catch {
      throw new ConfigError(
        [
          `capture.user: no such user ${JSON.stringify(name)} for tcpdump -Z (create it, e.g. adduser --system --group ${name}, or set capture.user to an existing unprivileged user)`,
        ],
        'capture user',
      );
    }
  };
  return { name, uid: ask('-u'), gid: ask('-g') };
}

/**
 * Lets the capture user write `directory` (tcpdump opens its files after dropping to it): chowned
 * to that user when this process is root, the only case where tcpdump changes user.
 */
export function prepareCaptureDirectory(directory: string, user: CaptureUser): void {
  if (process.getuid?.() !== 0 || user.uid === 0) return;
  chownSync(directory, user.uid, user.gid);
}
