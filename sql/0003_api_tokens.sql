-- API bearer tokens (interim authentication until users and roles exist). Only an argon2id hash
-- of each token is stored; the plaintext is shown once.
CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  token_hash   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
