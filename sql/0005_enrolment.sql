-- Sensor enrolment tokens and MQTT integration accounts (issue 4).

-- One-time tokens an agent exchanges for its sensor's secret (`pcapmesh-agent enroll`). Only the
-- SHA-256 of a token is stored (tokens are 32 random bytes: a fast hash is enough and allows lookup).
CREATE TABLE enrolment_tokens (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sensor_id  bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX enrolment_tokens_sensor_idx ON enrolment_tokens (sensor_id);

-- Read-only MQTT subscribers to events/# (the embedded broker's policy), with argon2id secrets.
CREATE TABLE integration_accounts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  secret_hash text NOT NULL,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
