-- Users, roles, preferences, the audit log and auth secrets (issue 4).

-- Local users hold an argon2id hash; LDAP users (created on their first login) have none.
CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
  role          text NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
  source        text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'ldap')),
  password_hash text,
  disabled      boolean NOT NULL DEFAULT false,
  -- Validated by the domain (preferences schema); the avatar is kept apart as bytes.
  preferences   jsonb NOT NULL DEFAULT '{}'::jsonb,
  avatar        bytea,
  avatar_type   text CHECK (avatar_type IN ('image/png', 'image/jpeg', 'image/webp')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  CHECK (source = 'ldap' OR password_hash IS NOT NULL)
);

-- API tokens become role-scoped integrator credentials; the existing ones keep full rights.
ALTER TABLE api_tokens ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'analyst', 'viewer'));

-- Secrets the collector generates once (the JWT signing key), never shown.
CREATE TABLE auth_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Who did what, partitioned by day like the time series (storage/partitions.ts).
CREATE TABLE audit_log (
  id        bigint GENERATED ALWAYS AS IDENTITY,
  at        timestamptz NOT NULL DEFAULT now(),
  -- Username or "token:<name>"; NULL for an anonymous caller (a failed login names the attempted user in target).
  actor     text,
  action    text NOT NULL,
  target    text,
  outcome   text NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  source_ip text,
  details   jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);
