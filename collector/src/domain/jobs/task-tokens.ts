/**
 * Task upload tokens (docs/jobs.md "Upload"): the bearer credential an agent presents to
 * `/api/v1/tasks/{task}/upload`, sent to it inside the task command.
 *
 * Contract:
 * - an HS256 JWT with `sub` = task id, `job`, `sensor`, `scope: "task-upload"`, our issuer, the
 *   audience `pcapmesh-task-upload` and `exp` as the issuer chose (jobs.uploadTokenMinutes after the
 *   window's end or the dispatch, whichever is later — JobsService decides);
 * - the key is 32 random bytes generated on the first start and kept in `auth_secrets`
 *   (`task-upload-hs256`), apart from the user access-token key: a task token is never a user
 *   credential (its audience and key differ) and a user token never reaches an upload;
 * - `verify(token, taskId)` returns the claims of a valid token for that task; a bad, tampered,
 *   expired or foreign (other key, scope, audience, algorithm) token → DomainError('unauthenticated');
 *   a valid token of another task → DomainError('forbidden'). The token itself is never logged.
 *
 * @example
 *   const tokens = await TaskTokens.open({ db });
 *   const token = await tokens.issue({ taskId: 't1', jobId, sensor: 'edge-1' }, new Date(Date.now() + 3_600_000));
 *   await tokens.verify(token, 't1'); // { taskId: 't1', jobId, sensor: 'edge-1', expiresAt }
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Queryable } from '../../storage/db.js';
import { ensureSecret } from '../../storage/auth-secrets.repo.js';
import { DomainError } from '../errors.js';

const ISSUER = 'pcapmesh';
const AUDIENCE = 'pcapmesh-task-upload';
/** The `scope` claim every task token carries. */
export const TASK_TOKEN_SCOPE = 'task-upload';
/** Name of the signing key in `auth_secrets`. */
export const TASK_TOKEN_SECRET_NAME = 'task-upload-hs256';

export interface TaskTokenSubject {
  taskId: string;
  jobId: string;
  sensor: string;
}

export interface TaskTokenClaims extends TaskTokenSubject {
  expiresAt: Date;
}

export class TaskTokens {
  readonly counters = { issued: 0, verified: 0, refused: 0, otherTask: 0 };

  constructor(
    private readonly key: Uint8Array,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (key.length < 32) throw new Error('task token key must be at least 32 bytes');
  }

  /** Loads (or on the first start creates) the signing key from the database. */
  static async open(opts: { db: Queryable; now?: () => Date }): Promise<TaskTokens> {
    const stored = await ensureSecret(opts.db, TASK_TOKEN_SECRET_NAME, randomBytes(32).toString('base64url'));
    return new TaskTokens(Buffer.from(stored, 'base64url'), opts.now);
  }

  /** A token for `subject` valid until `expiresAt` (which must lie in the future). */
  async issue(subject: TaskTokenSubject, expiresAt: Date): Promise<string> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = Math.floor(expiresAt.getTime() / 1000);
    if (!(exp > iat)) throw new Error(`task token for ${subject.taskId} would expire at ${expiresAt.toISOString()}, not after now`);
    const token = await new SignJWT({ job: subject.jobId, sensor: subject.sensor, scope: TASK_TOKEN_SCOPE })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject.taskId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.key);
    this.counters.issued += 1;
    return token;
  }

  /**
   * The claims of `token` when it is a valid token for `taskId`.
   * @throws DomainError('unauthenticated') for a bad, expired or foreign token; ('forbidden') for another task's.
   */
  async verify(token: string, taskId: string): Promise<TaskTokenClaims> {
    let claims: TaskTokenClaims;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
        currentDate: this.now(),
      });
      const { sub, job, sensor, scope, exp } = payload;
      if (scope !== TASK_TOKEN_SCOPE || typeof sub !== 'string' || typeof job !== 'string' || typeof sensor !== 'string' || typeof exp !== 'number') {
        throw new Error('claims');
      }
      claims = { taskId: sub, jobId: job, sensor, expiresAt: new Date(exp * 1000) };
    } catch (err) {
      this.counters.refused += 1;
      const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw new DomainError('unauthenticated', expired ? 'task token expired' : 'invalid task token');
    }
    if (claims.taskId !== taskId) {
      this.counters.otherTask += 1;
      throw new DomainError('forbidden', `this token is for another task, not ${taskId}`);
    }
    this.counters.verified += 1;
    return claims;
  }
}
