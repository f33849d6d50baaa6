/**
 * The typed client of the collector's REST API — the ONLY caller of `fetch` in the dashboard.
 *
 * Contract:
 * - every call sends `Authorization: Bearer <token>` when the session has one;
 * - a 401 on an authenticated call triggers ONE `auth.refresh()`; when that yields a new token the
 *   call is retried once, otherwise the ApiError(401) propagates (the session then signs out);
 * - a non-2xx answer becomes an `ApiError` carrying the status, the server's error code and
 *   message (`{ error: { code, message } }`), and for 429 the Retry-After seconds;
 * - a network failure becomes ApiError(0, 'network') naming the request, with the cause kept.
 *
 * @example
 *   const api = makeApiClient({ auth: { token: () => session.token(), refresh: () => session.refresh() } });
 *   const { sensors } = await api.sensors();
 */
import type {
  ActivityEntry,
  DeviceView,
  ErrorBody,
  HealthPoint,
  HealthSummary,
  LocationView,
  LoginResult,
  Preferences,
  SensorView,
  Me,
  UserView,
  AuditEntry,
  Role,
  AnalysisReport,
  PacketDetail,
  PacketPage,
  EvidenceManifest,
  JobDetail,
  JobFilterInput,
  JobPlan,
  JobStatus,
  JobTargets,
  JobView,
  TaskView,
  NetworkLocationsView,
  SubnetView,
  TrafficView,
  SearchView,
  SystemStatus,
  StorageView,
  MaintenancePage,
  EnrolmentToken,
  IntegrationView,
  ApiTokenView,
} from './types.js';

/** POST /jobs as the dashboard sends it (times as ISO 8601 or epoch ms). */
export interface JobSubmit {
  name?: string;
  window: { from: string | number; to: string | number };
  filter: JobFilterInput;
  targets: JobTargets;
  limits?: { maxBytes?: number; maxPackets?: number; timeoutSeconds?: number };
}

/** A downloaded file: its bytes, the name the collector suggests and its ETag (the SHA-256). */
export interface Download {
  blob: Blob;
  fileName: string;
  sha256: string | null;
}

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** The server's error code ('unauthenticated', 'not_found', ...) or 'network' / 'http'. */
    readonly code: string,
    /** Seconds to wait, from Retry-After (429). */
    readonly retryAfter: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** Where the client gets its bearer token, and how it renews it after a 401. */
export interface TokenSource {
  token(): string | null;
  /** Tries to obtain a fresh token; resolves true when `token()` now returns a new one. */
  refresh(): Promise<boolean>;
}

export interface ApiClientOptions {
  auth: TokenSource;
  base?: string;
  fetch?: typeof fetch;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** A raw body (an uploaded file) instead of JSON. */
  raw?: Blob;
  query?: Record<string, string | number | undefined>;
  /** false: no bearer token and no refresh-on-401 (login, refresh). */
  auth?: boolean;
}

export type ApiClient = ReturnType<typeof makeApiClient>;

export function makeApiClient(opts: ApiClientOptions) {
  const base = opts.base ?? API_BASE;
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function send(path: string, o: RequestOptions): Promise<Response> {
    const method = o.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = o.auth === false ? null : opts.auth.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.raw) headers['content-type'] = o.raw.type || 'application/octet-stream';
    const query = Object.entries(o.query ?? {}).filter((e): e is [string, string | number] => e[1] !== undefined);
    const url = base + path + (query.length ? `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)]))}` : '');
    try {
      return await doFetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : o.raw ? { body: o.raw } : {}),
      });
    } catch (err) {
      throw new ApiError(`${method} ${path}: the collector cannot be reached`, 0, 'network', null, { cause: err });
    }
  }

  async function toError(res: Response, method: string, path: string): Promise<ApiError> {
    let code = 'http';
    let message = `${method} ${path} failed with HTTP ${res.status}`;
    try {
      const body = (await res.json()) as Partial<ErrorBody>;
      if (body.error && typeof body.error.message === 'string') {
        code = body.error.code ?? code;
        message = body.error.message;
      }
    } catch {
      // not JSON: keep the generic message
    }
    const retry = Number(res.headers.get('retry-after'));
    return new ApiError(message, res.status, code, res.status === 429 && Number.isFinite(retry) ? retry : null);
  }

  /** A GET answered with a file body (downloads): the bearer credential travels as for JSON calls. */
  async function file(path: string): Promise<Download> {
    let res = await send(path, {});
    if (res.status === 401 && (await opts.auth.refresh())) res = await send(path, {});
    if (!res.ok) throw await toError(res, 'GET', path);
    const disposition = res.headers.get('content-disposition') ?? '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? path.split('/').filter(Boolean).join('-');
    const etag = res.headers.get('etag');
    return { blob: await res.blob(), fileName: name, sha256: etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null };
  }

  async function request<T>(path: string, o: RequestOptions = {}): Promise<T> {
    let res = await send(path, o);
    if (res.status === 401 && o.auth !== false && (await opts.auth.refresh())) res = await send(path, o);
    if (!res.ok) throw await toError(res, o.method ?? 'GET', path);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  const seg = encodeURIComponent;

  return {
    health: () => request<{ status: string; version: string; time: string }>('/health', { auth: false }),
    summary: () => request<HealthSummary>('/health/summary'),
    sensors: () => request<{ sensors: SensorView[] }>('/sensors'),
    sensor: (name: string) => request<SensorView>(`/sensors/${seg(name)}`),
    devices: (name: string) => request<{ devices: DeviceView[] }>(`/sensors/${seg(name)}/devices`),
    healthSeries: (name: string, from: Date, to: Date, maxPoints = 600) =>
      request<{ from: string; to: string; points: HealthPoint[] }>(`/sensors/${seg(name)}/health`, {
        query: { from: from.toISOString(), to: to.toISOString(), maxPoints },
      }),
    activity: (limit = 50) => request<{ entries: ActivityEntry[] }>('/sensors/activity', { query: { limit } }),
    locations: () => request<{ locations: LocationView[] }>('/locations'),

    login: (username: string, password: string) => request<LoginResult>('/login', { method: 'POST', body: { username, password }, auth: false }),
    /** Uses the httpOnly refresh cookie; rotates it. */
    refresh: () => request<LoginResult>('/refresh', { method: 'POST', auth: false }),
    logout: () => request<void>('/logout', { method: 'POST' }),
    me: () => request<Me>('/me'),
    preferences: () => request<Preferences>('/preferences'),
    /** Merges the given keys (avatar: use uploadAvatar / deleteAvatar). */
    savePreferences: (p: Partial<Omit<Preferences, 'avatar'>>) => request<Preferences>('/preferences', { method: 'PUT', body: p }),
    /** PNG, JPEG or WebP of at most 256 KB (checked by the collector too). */
    uploadAvatar: (image: Blob) => request<void>('/preferences/avatar', { method: 'PUT', raw: image }),
    users: () => request<{ users: UserView[] }>('/admin/users'),
    createUser: (u: { username: string; role: Role; password: string }) => request<UserView>('/admin/users', { method: 'POST', body: u }),
    updateUser: (username: string, change: { role?: Role; disabled?: boolean; password?: string }) =>
      request<UserView>(`/admin/users/${seg(username)}`, { method: 'PUT', body: change }),
    deleteUser: (username: string) => request<void>(`/admin/users/${seg(username)}`, { method: 'DELETE' }),
    /** Newest first; pass the previous page's `next` as cursor. */
    audit: (q: { action?: string; outcome?: string; actor?: string; limit?: number; cursor?: string }) =>
      request<{ entries: AuditEntry[]; next: string | null }>('/admin/audit', { query: q }),
    /** Recent structured log lines of the collector, oldest first. */
    logs: (q: { level?: string; component?: string; limit?: number }) => request<{ lines: Record<string, unknown>[] }>('/admin/logs', { query: q }),
    /** Newest first; `status` several comma-separated; pass the previous page's `next` as cursor. */
    jobs: (q: { status?: JobStatus[]; owner?: string; from?: string; to?: string; limit?: number; cursor?: string }) =>
      request<{ jobs: JobView[]; next: string | null }>('/jobs', {
        query: { ...q, status: q.status && q.status.length > 0 ? q.status.join(',') : undefined },
      }),
    job: (id: string) => request<JobDetail>(`/jobs/${seg(id)}`),
    jobTasks: (id: string) => request<{ tasks: TaskView[] }>(`/jobs/${seg(id)}/tasks`),
    submitJob: (body: JobSubmit) => request<{ job: JobDetail; plan: JobPlan }>('/jobs', { method: 'POST', body }),
    /** Validates and plans without creating anything; a bad filter is ApiError(400) naming its position. */
    dryRunJob: (body: JobSubmit) => request<{ plan: JobPlan }>('/jobs', { method: 'POST', body: { ...body, dryRun: true } }),
    cancelJob: (id: string) => request<JobView>(`/jobs/${seg(id)}/cancel`, { method: 'POST' }),
    deleteJob: (id: string) => request<void>(`/jobs/${seg(id)}`, { method: 'DELETE' }),
    jobAnalysis: (id: string) => request<AnalysisReport>(`/jobs/${seg(id)}/analysis`),
    /** A page of the merged result's packet list, decoded on the collector (`offset` 0-based, `limit` 1–1000). */
    jobPackets: (id: string, offset: number, limit: number) => request<PacketPage>(`/jobs/${seg(id)}/packets`, { query: { offset, limit } }),
    /** Packet `n` (1-based): layers, fields and (for who may download the job) the bytes. */
    jobPacket: (id: string, n: number) => request<PacketDetail>(`/jobs/${seg(id)}/packets/${n}`),
    jobManifest: (id: string) => request<{ jws: string; manifest: EvidenceManifest }>(`/jobs/${seg(id)}/manifest`),
    /** The merged capture, or one task's result (`task`), as a Blob (links cannot carry the bearer token). */
    downloadJob: (id: string, task?: string) => file(task ? `/jobs/${seg(id)}/tasks/${seg(task)}/pcap` : `/jobs/${seg(id)}/pcap`),
    deleteAvatar: () => request<void>('/preferences/avatar', { method: 'DELETE' }),

    // ─── network, search (GET read; PUT/DELETE/POST admin) ──────────────────────────────────────
    /** Locations with coordinates, sensors, totals and inter-location flows; default the last 24 h. */
    networkLocations: (q: { from?: string; to?: string } = {}) => request<NetworkLocationsView>('/network/locations', { query: q }),
    networkSubnets: (q: { location?: string; state?: SubnetView['state'] } = {}) => request<{ subnets: SubnetView[] }>('/network/subnets', { query: q }),
    networkTraffic: (q: { from?: string; to?: string; location?: string; subnet?: string; top?: number } = {}) =>
      request<TrafficView>('/network/traffic', { query: q }),
    clearNetworkCache: () => request<{ cleared: number }>('/network/locations/clear-cache', { method: 'POST' }),
    pinSubnet: (cidr: string, location: string) => request<SubnetView>(`/admin/subnets/${seg(cidr)}`, { method: 'PUT', body: { location } }),
    unpinSubnet: (cidr: string) => request<void>(`/admin/subnets/${seg(cidr)}`, { method: 'DELETE' }),
    /** null clears a field; a new name creates the location. */
    updateLocation: (name: string, change: { latitude?: number | null; longitude?: number | null; description?: string | null }) =>
      request<LocationView>(`/admin/locations/${seg(name)}`, { method: 'PUT', body: change }),
    search: (q: string, limit?: number) => request<SearchView>('/search', { query: { q, limit } }),

    // ─── admin: system, storage, sensors' enrolment, integrations, API tokens ────────────────────
    systemStatus: () => request<SystemStatus>('/admin/system/status'),
    storage: () => request<{ database: StorageView['database'] & { kind: string }; dataDir: StorageView['dataDir'] }>('/admin/storage'),
    maintenance: (q: { limit?: number; cursor?: string } = {}) => request<MaintenancePage>('/admin/maintenance', { query: q }),
    createSensor: (body: { name: string; location?: string; expiresInHours?: number }) =>
      request<{ sensor: SensorView; enrolment: EnrolmentToken }>('/admin/sensors', { method: 'POST', body }),
    enrolmentToken: (name: string, expiresInHours = 24) =>
      request<EnrolmentToken>(`/admin/sensors/${seg(name)}/enrolment`, { method: 'POST', body: { expiresInHours } }),
    rotateSensor: (name: string) => request<{ sensor: string; secret: string }>(`/admin/sensors/${seg(name)}/rotate`, { method: 'POST' }),
    revokeSensor: (name: string) => request<void>(`/admin/sensors/${seg(name)}/revoke`, { method: 'POST' }),
    integrations: () => request<{ integrations: IntegrationView[] }>('/admin/integrations'),
    createIntegration: (name: string) => request<IntegrationView & { secret: string }>('/admin/integrations', { method: 'POST', body: { name } }),
    deleteIntegration: (name: string) => request<void>(`/admin/integrations/${seg(name)}`, { method: 'DELETE' }),
    apiTokens: () => request<{ tokens: ApiTokenView[] }>('/admin/api-tokens'),
    createApiToken: (name: string, role: Role) => request<ApiTokenView & { token: string }>('/admin/api-tokens', { method: 'POST', body: { name, role } }),
    deleteApiToken: (name: string) => request<void>(`/admin/api-tokens/${seg(name)}`, { method: 'DELETE' }),
  };
}
