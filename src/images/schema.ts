/**
 * The local image store's metadata. SQLite in WAL mode with a busy timeout, so several berth
 * processes can use one store at once; every change runs in one IMMEDIATE transaction.
 */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  id           TEXT PRIMARY KEY,      -- the config digest, as Docker's image ID
  config_size  INTEGER NOT NULL,
  created      TEXT,                  -- the config's "created"
  os           TEXT NOT NULL,
  architecture TEXT NOT NULL,
  variant      TEXT,
  size         INTEGER NOT NULL,      -- the sum of its layers' sizes
  parent       TEXT,                  -- Docker's local parent image (builds), or NULL
  added_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS layers (
  chain_id TEXT PRIMARY KEY,          -- sha256 over the diff_ids below and including this one
  diff_id  TEXT NOT NULL,
  parent   TEXT,                      -- chain id of the layer below
  size     INTEGER NOT NULL           -- as Docker counts it: file contents and symlink targets (layer/size.ts)
);
CREATE TABLE IF NOT EXISTS image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  chain_id TEXT NOT NULL REFERENCES layers(chain_id),
  PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
-- compressed forms of a layer that the content store holds, so push sends them unchanged
CREATE TABLE IF NOT EXISTS layer_blobs (
  diff_id    TEXT NOT NULL,
  digest     TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  PRIMARY KEY (diff_id, digest)
);
-- where a blob is known to exist remotely, for cross-repository mounts on push
CREATE TABLE IF NOT EXISTS blob_sources (
  digest     TEXT NOT NULL,
  registry   TEXT NOT NULL,
  repository TEXT NOT NULL,
  PRIMARY KEY (digest, registry, repository)
);
CREATE TABLE IF NOT EXISTS tags (
  repository TEXT NOT NULL,           -- normalised: docker.io/library/alpine
  tag        TEXT NOT NULL,
  image_id   TEXT NOT NULL REFERENCES images(id),
  manifest   TEXT,                    -- the manifest the tag was pulled or loaded with, pushed as is
  PRIMARY KEY (repository, tag)
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests (
  repository TEXT NOT NULL,
  digest     TEXT NOT NULL,           -- the manifest digest as the registry knows it
  image_id   TEXT NOT NULL REFERENCES images(id),
  PRIMARY KEY (repository, digest)
);
CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);
-- manifests (and indexes) kept in the content store, for push, save and manifest commands
CREATE TABLE IF NOT EXISTS manifests (
  digest     TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  image_id   TEXT                     -- NULL for an index
);
CREATE INDEX IF NOT EXISTS manifests_image ON manifests(image_id);
-- what a process is about to use (containerd's leases): a pull holds each layer and blob it
-- checks or writes until the image that uses them is recorded, so a concurrent rmi or prune
-- cannot delete them. A lease whose process is gone (pid and start time no longer match)
-- expires; one without a pid lasts until it is released.
CREATE TABLE IF NOT EXISTS leases (
  id          TEXT PRIMARY KEY,
  pid         INTEGER,
  pid_started INTEGER,                -- the process's start time in /proc/PID/stat, against pid reuse
  created     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_refs (
  lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
  kind     TEXT NOT NULL,             -- 'layer' (a chain id) or 'blob' (a digest)
  key      TEXT NOT NULL,
  PRIMARY KEY (lease_id, kind, key)
);
CREATE INDEX IF NOT EXISTS lease_refs_key ON lease_refs(kind, key);
`;
