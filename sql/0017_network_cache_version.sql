-- Version of what the location cache holds (domain/network/location-cache.ts): every change of the
-- subnet map or of a location bumps `generation` (in the changing transaction, or right after its
-- commit), and a cached entry is used only while the generation it was loaded under is current.
-- So a read that starts after a pin returned never answers an entry loaded before it, even when
-- a slower read stored that entry after the pin's invalidation, or another collector did.
-- `token` is random per database: collectors of different databases that share one Redis (and key
-- prefix) keep apart entries (their keys carry it).
CREATE TABLE network_cache_version (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  token      text NOT NULL,
  generation bigint NOT NULL DEFAULT 0
);
INSERT INTO network_cache_version (token) VALUES (md5(random()::text || clock_timestamp()::text));
