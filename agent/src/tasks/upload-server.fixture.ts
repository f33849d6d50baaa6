/**
 * A real HTTP peer for agent task tests: the upload protocol of docs/jobs.md on a node:http server
 * (loopback, ephemeral port), holding uploads in memory, with faults a test can inject:
 * answers with a status for the next N requests of a method, cutting the connection mid-request,
 * or lying about the offset (409). A PUT of the whole file with X-Upload-Packets/X-Upload-Bytes
 * declares it as POST does (unless `declaringPuts` is off: then, like a collector that does not
 * know the headers, such a PUT of an undeclared upload is refused with 409).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldUpload {
  declared: { size: number; sha256: string; packets: number; bytes: number; truncated?: string };
  data: Buffer;
  complete: boolean;
  declarations: number;
}

type Fault = { method: string; kind: 'status'; status: number } | { method: string; kind: 'cut' } | { method: string; kind: 'conflict'; received: number };

export class UploadServer {
  readonly uploads = new Map<string, HeldUpload>();
  /** Every request as `METHOD status [range]`, in order. */
  readonly log: string[] = [];
  /** Bearer token expected per task (absent: any token). */
  readonly tokens = new Map<string, string>();
  /** Called before each PUT is handled (a test can stop the agent there). */
  onPut: ((task: string, start: number) => void) | null = null;
  /** Corrupt the stored copy of the next completed file (the whole-file check then fails: 422). */
  corruptNextFile = 0;
  /** Larger chunk bodies are refused with 413, like jobs.uploadChunkMaxBytes. */
  maxChunkBytes = Infinity;
  /** Whether a PUT may declare the upload (X-Upload-* headers). */
  declaringPuts = true;
  private readonly faults: Fault[] = [];
  private server: Server | null = null;
  port = 0;

  url(task: string): string {
    return `http://127.0.0.1:${this.port}/api/v1/tasks/${task}/upload`;
  }

  fault(f: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(f);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { code: 'internal', message: (err as Error).message } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/api\/v1\/tasks\/([^/]+)\/upload$/.exec(req.url ?? '');
    const method = req.method ?? '';
    const body = await readBody(req);
    const answer = (status: number, json: unknown, note = ''): void => {
      this.log.push(`${method} ${status}${note}`);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (!m) return answer(404, { error: { code: 'not-found', message: 'no such route' } });
    const task = m[1]!;
    const expected = this.tokens.get(task);
    if (expected !== undefined && req.headers.authorization !== `Bearer ${expected}`) {
      return answer(401, { error: { code: 'unauthenticated', message: 'task token expired or invalid' } });
    }
    const faultAt = this.faults.findIndex((f) => f.method === method);
    if (faultAt >= 0) {
      const fault = this.faults.splice(faultAt, 1)[0]!;
      if (fault.kind === 'cut') {
        this.log.push(`${method} cut`);
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'status') return answer(fault.status, { error: { code: 'injected', message: `injected ${fault.status}` } });
      return answer(409, { error: { code: 'conflict', message: 'chunk does not start at the received offset', received: fault.received } });
    }
    const state = (h: HeldUpload) => ({ received: h.data.length, size: h.declared.size, complete: h.complete });
    const declare = (declared: HeldUpload['declared']): HeldUpload => {
      const known = this.uploads.get(task);
      if (known && known.declared.size === declared.size && known.declared.sha256 === declared.sha256) {
        known.declarations++;
        return known;
      }
      const fresh: HeldUpload = { declared, data: Buffer.alloc(0), complete: false, declarations: 1 };
      this.uploads.set(task, fresh);
      return fresh;
    };
    if (method === 'POST') return answer(200, state(declare(JSON.parse(body.toString('utf8')) as HeldUpload['declared'])));
    const declaring = method === 'PUT' && req.headers['x-upload-packets'] !== undefined;
    // Like the collector's route: a body over the limit is refused before anything else.
    if (method === 'PUT' && body.length > this.maxChunkBytes) {
      const start = /^bytes (\d+)-/.exec(String(req.headers['content-range'] ?? ''))?.[1] ?? '?';
      return answer(413, { error: { code: 'too_large', message: 'chunk too large' } }, ` ${start}`);
    }
    if (declaring && this.declaringPuts) {
      const size = Number(/\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''))?.[1]);
      const declared = declare({
        size,
        sha256: String(req.headers['x-chunk-sha256']),
        packets: Number(req.headers['x-upload-packets']),
        bytes: Number(req.headers['x-upload-bytes']),
        ...(req.headers['x-upload-truncated'] ? { truncated: String(req.headers['x-upload-truncated']) } : {}),
      });
      if (declared.complete) return answer(200, state(declared), ' 0 declaring');
    }
    const held = this.uploads.get(task);
    if (!held && declaring && !this.declaringPuts)
      return answer(409, { error: { code: 'conflict', message: 'no declared upload: POST the declaration first' } });
    if (!held) return answer(404, { error: { code: 'not-found', message: 'nothing declared' } });
    if (method === 'GET') return answer(200, state(held));
    if (method !== 'PUT') return answer(405, { error: { code: 'invalid', message: 'method' } });
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
    if (!range) return answer(400, { error: { code: 'invalid', message: 'Content-Range missing or malformed' } });
    const [start, end, size] = [Number(range[1]), Number(range[2]), Number(range[3])];
    this.onPut?.(task, start);
    if (start !== held.data.length) return answer(409, { error: { code: 'conflict', message: 'offset', received: held.data.length } }, ` ${start}`);
    const sha = createHash('sha256').update(body).digest('hex');
    if (sha !== req.headers['x-chunk-sha256'] || end - start + 1 !== body.length || size !== held.declared.size || end >= size) {
      return answer(400, { error: { code: 'invalid', message: 'chunk refused' } }, ` ${start}`);
    }
    held.data = Buffer.concat([held.data, body]);
    const note = declaring && this.declaringPuts ? ' declaring' : '';
    if (held.data.length === size) {
      if (this.corruptNextFile > 0) {
        this.corruptNextFile--;
        held.data[0] = held.data[0]! ^ 0xff;
      }
      if (createHash('sha256').update(held.data).digest('hex') !== held.declared.sha256) {
        held.data = Buffer.alloc(0);
        return answer(422, { error: { code: 'invalid', message: 'whole-file SHA-256 mismatch; upload reset' } }, ` ${start}${note}`);
      }
      held.complete = true;
    }
    return answer(200, state(held), ` ${start}${note}`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
