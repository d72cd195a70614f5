/**
 * The shared metadata's tables. Created on first start by whichever replica gets the schema lock;
 * `IF NOT EXISTS` everywhere so that starting again (or a second replica) changes nothing.
 * Names sort with COLLATE "C" so that tags and the catalog come out in the byte order the
 * filesystem setup (and distribution) use.
 */
export const SCHEMA_LOCK = 0x6265_7274; // "bert"
export const GC_LOCK = 0x6265_7267; // "berg"

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS berth_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
  digest text PRIMARY KEY,
  size bigint NOT NULL,
  last_used timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS repositories (name text COLLATE "C" PRIMARY KEY);
CREATE TABLE IF NOT EXISTS layer_links (
  repository text NOT NULL,
  digest text NOT NULL,
  last_used timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, digest)
);
CREATE INDEX IF NOT EXISTS layer_links_digest ON layer_links (digest);
CREATE TABLE IF NOT EXISTS revisions (
  repository text NOT NULL,
  digest text NOT NULL,
  media_type text NOT NULL,
  size bigint NOT NULL,
  subject text,
  referrer jsonb,
  last_used timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, digest)
);
CREATE INDEX IF NOT EXISTS revisions_subject ON revisions (repository, subject) WHERE subject IS NOT NULL;
CREATE INDEX IF NOT EXISTS revisions_digest ON revisions (digest);
CREATE TABLE IF NOT EXISTS manifest_references (
  repository text NOT NULL,
  manifest text NOT NULL,
  digest text NOT NULL,
  kind text NOT NULL,
  PRIMARY KEY (repository, manifest, digest),
  FOREIGN KEY (repository, manifest) REFERENCES revisions ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS manifest_references_digest ON manifest_references (digest);
CREATE TABLE IF NOT EXISTS tags (
  repository text NOT NULL,
  tag text COLLATE "C" NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (repository, tag),
  FOREIGN KEY (repository, digest) REFERENCES revisions ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS tags_target ON tags (repository, digest);
CREATE TABLE IF NOT EXISTS uploads (
  repository text NOT NULL,
  uuid text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, uuid)
);
CREATE TABLE IF NOT EXISTS settings (name text PRIMARY KEY, value text NOT NULL);
`;
