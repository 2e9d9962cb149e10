-- The mvsync store: connector spaces, metaverse, pending exports and run history in one
-- SQLite file.  Each "-- migration N" section moves a store from schema version N-1 to N;
-- the engine applies, in one transaction, every section above the file's user_version and
-- then sets user_version to the last N.  Never edit a released section: add a new one.
-- Design: docs/internals/store.md.

-- migration 1

-- Store-wide settings: staging flag, rule-set hash of the last sync, key attribute sets.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE connector (
  id        INTEGER PRIMARY KEY,
  name      TEXT NOT NULL UNIQUE,
  type      TEXT NOT NULL,
  watermark TEXT              -- delta cookie / token / change-log offset; NULL: none
);

-- One row per connector-space object.  attrs is one blob per object (engine/attrset.c);
-- reference values live in cs_ref.  anchor is NULL for an object mvsync provisioned that
-- no import has confirmed yet (present = 0).
CREATE TABLE cs_object (
  id           INTEGER PRIMARY KEY,
  connector    INTEGER NOT NULL REFERENCES connector(id),
  anchor       TEXT,
  dn           TEXT,
  dn_key       TEXT,          -- dn folded to lower case: DN matching ignores case
  object_type  TEXT NOT NULL,
  attrs        BLOB NOT NULL,
  import_state INTEGER NOT NULL DEFAULT 0,   -- 0 none, 1 add, 2 update, 3 delete, 4 delete/add
  present      INTEGER NOT NULL DEFAULT 1,   -- 0: provisioned, not yet confirmed by import
  renamed      INTEGER NOT NULL DEFAULT 0,   -- 1: the import changed its DN (until synced)
  mv_id        INTEGER,       -- the joined metaverse object, NULL for a disconnector
  link_rule    TEXT,          -- name of the rule that joined, projected or provisioned it
  link_type    INTEGER,       -- rule_link of that rule
  link_out     INTEGER NOT NULL DEFAULT 0,   -- 1: joined by an outbound rule
  provisioned  INTEGER NOT NULL DEFAULT 0,   -- 1: created by an outbound Provision rule
  error        TEXT,          -- the last sync error of this object (join conflict, ...)
  UNIQUE (connector, anchor)
);
CREATE INDEX cs_object_dn ON cs_object(connector, dn_key);
CREATE INDEX cs_object_mv ON cs_object(mv_id) WHERE mv_id IS NOT NULL;
CREATE INDEX cs_object_pending ON cs_object(import_state) WHERE import_state <> 0;

-- Reference values, one row per value: a member change in a large group is one row.
-- target_key is what the directory said (DN or id), target_norm the same folded to lower
-- case, target_id the resolved object of the same connector (NULL until it arrives).
CREATE TABLE cs_ref (
  cs_id       INTEGER NOT NULL,
  attr        TEXT NOT NULL,
  target_norm TEXT NOT NULL,
  target_key  TEXT NOT NULL,
  target_id   INTEGER,
  PRIMARY KEY (cs_id, attr, target_norm)
) WITHOUT ROWID;
CREATE INDEX cs_ref_target ON cs_ref(target_id) WHERE target_id IS NOT NULL;
CREATE INDEX cs_ref_unresolved ON cs_ref(target_norm) WHERE target_id IS NULL;

-- Reference values an import added (op 1) or removed (op 2) since the object was last
-- synced: a delta sync applies them to mv_ref and to pending exports instead of re-reading
-- a large group.  target_id: the object the value named (for a removal, before it went).
-- An add and a removal of one value before the next sync cancel out.
CREATE TABLE cs_ref_delta (
  cs_id       INTEGER NOT NULL,
  attr        TEXT NOT NULL,
  target_norm TEXT NOT NULL,
  op          INTEGER NOT NULL,
  target_id   INTEGER,
  PRIMARY KEY (cs_id, attr, target_norm)
) WITHOUT ROWID;

-- Values of the connector-space attributes join conditions use, folded to lower case, so
-- finding the objects a join could match is an index lookup.
CREATE TABLE cs_key (
  connector INTEGER NOT NULL,
  attr      TEXT NOT NULL,
  norm      TEXT NOT NULL,
  cs_id     INTEGER NOT NULL,
  PRIMARY KEY (connector, attr, norm, cs_id)
) WITHOUT ROWID;
CREATE INDEX cs_key_object ON cs_key(cs_id);

-- Metaverse objects: attrs holds every non-reference attribute with its contributing rule
-- (and a placeholder for each reference attribute, whose values are in mv_ref).
CREATE TABLE mv_object (
  id          INTEGER PRIMARY KEY,
  object_type TEXT NOT NULL,
  attrs       BLOB NOT NULL
);

CREATE TABLE mv_ref (
  mv_id     INTEGER NOT NULL,
  attr      TEXT NOT NULL,
  target_mv INTEGER NOT NULL,
  PRIMARY KEY (mv_id, attr, target_mv)
) WITHOUT ROWID;
CREATE INDEX mv_ref_target ON mv_ref(target_mv);

-- Values of the metaverse attributes join conditions use, folded to lower case.
CREATE TABLE mv_key (
  attr  TEXT NOT NULL,
  norm  TEXT NOT NULL,
  mv_id INTEGER NOT NULL,
  PRIMARY KEY (attr, norm, mv_id)
) WITHOUT ROWID;
CREATE INDEX mv_key_object ON mv_key(mv_id);

-- One pending export per connector-space object.  op: 0 add, 1 update, 2 delete, 3 rename.
-- status: 0 pending, 1 sent (waiting for a confirming import).
CREATE TABLE pending_export (
  cs_id      INTEGER PRIMARY KEY,
  op         INTEGER NOT NULL,
  new_dn     TEXT,
  status     INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER,
  error      TEXT,
  attempts   INTEGER NOT NULL DEFAULT 0,
  run_id     INTEGER
);

-- Value-level changes of a pending export.  mode: 0 replace, 1 add, 2 delete; value is one
-- value in the attrset encoding (NULL with mode 0: clear the attribute).
CREATE TABLE pending_export_value (
  cs_id INTEGER NOT NULL,
  attr  TEXT NOT NULL,
  mode  INTEGER NOT NULL,
  seq   INTEGER NOT NULL,
  value BLOB,
  PRIMARY KEY (cs_id, attr, mode, seq)
) WITHOUT ROWID;
-- A delta sync finds one member's row of a large pending member list.
CREATE INDEX pending_export_value_value ON pending_export_value(cs_id, attr, mode, value);

CREATE TABLE run (
  id           INTEGER PRIMARY KEY,
  profile      TEXT NOT NULL,
  connector    TEXT,
  started      TEXT NOT NULL,
  duration_ms  INTEGER NOT NULL,
  adds         INTEGER NOT NULL DEFAULT 0,
  updates      INTEGER NOT NULL DEFAULT 0,
  deletes      INTEGER NOT NULL DEFAULT 0,
  errors       INTEGER NOT NULL DEFAULT 0,
  skipped_refs INTEGER NOT NULL DEFAULT 0,
  ruleset_hash TEXT,
  status       TEXT NOT NULL,
  log          TEXT
);

-- migration 2

-- Drift: exported values a sync staged because the directory held values the outbound rules
-- do not want, while the metaverse side did not change (someone edited the directory).
ALTER TABLE run ADD COLUMN drift INTEGER NOT NULL DEFAULT 0;

-- The metaverse object each `collection` block of the rule set maintains, by its name.
CREATE TABLE mv_collection (
  name  TEXT PRIMARY KEY,
  mv_id INTEGER NOT NULL UNIQUE
);

-- migration 3

-- Creates sent whose outcome was never recorded (a crash or a deadline while they were in
-- flight): committed before the create is sent, removed once its result is recorded as done.
-- The next export asks the connector to look such an object up before creating it again
-- (docs/safety.md, "Idempotent creates").
CREATE TABLE export_inflight (
  cs_id INTEGER PRIMARY KEY,
  since TEXT NOT NULL
);

-- migration 4

-- Lineage (`mvsync show`): when the object was joined to its metaverse object (NULL: not
-- joined, or joined before schema 4), and whether it joined by projecting that object.
ALTER TABLE cs_object ADD COLUMN linked_at TEXT;
ALTER TABLE cs_object ADD COLUMN projected INTEGER NOT NULL DEFAULT 0;

-- Search (`mvsync search`, docs/internals/search.md): an object type (in any case, as a
-- filter's EQUAL compares), the joined objects and the disconnectors of a connector, its
-- objects in error, and metaverse objects of a type are index lookups.
CREATE INDEX cs_object_type ON cs_object(connector, object_type COLLATE NOCASE);
CREATE INDEX cs_object_link ON cs_object(connector, mv_id);
CREATE INDEX cs_object_error ON cs_object(connector) WHERE error IS NOT NULL;
CREATE INDEX pending_export_error ON pending_export(cs_id) WHERE error IS NOT NULL;
CREATE INDEX mv_object_type ON mv_object(object_type COLLATE NOCASE);

-- Errors as an operator reads them (`mvsync errors`): a connector-space object's sync error
-- names the rule and the attribute when one is known, and says when it was first and last
-- seen (first: since the object has had this message; last: the latest sync that found it).
-- An export error says when the export first and last failed.  Listing the errors reads only
-- the objects in error, through the partial indexes cs_object_error and pending_export_error
-- above.
ALTER TABLE cs_object ADD COLUMN error_rule TEXT;
ALTER TABLE cs_object ADD COLUMN error_attr TEXT;
ALTER TABLE cs_object ADD COLUMN error_first TEXT;
ALTER TABLE cs_object ADD COLUMN error_last TEXT;
-- 1 when the error came from outbound evaluation (a value the target refuses): inbound and
-- outbound each clear only their own, so neither resets the other's first sighting.
ALTER TABLE cs_object ADD COLUMN error_outbound INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending_export ADD COLUMN error_first TEXT;
ALTER TABLE pending_export ADD COLUMN error_last TEXT;
-- Drift value by value (docs/internals/sync.md, "Drift"; `mvsync authority`): what a sync put
-- back because someone changed the directory outside the rules.  run_id is the run that found
-- it, set when the run is recorded (NULL until then).  value: the directory's value the sync
-- changes — one added by hand (action remove), one removed by hand (add), or the value a
-- single-valued attribute held (replace).  rule: the rule whose value was put back.
CREATE TABLE drift (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER,
  connector   TEXT NOT NULL,
  object      TEXT NOT NULL,
  object_type TEXT NOT NULL,
  attr        TEXT NOT NULL,
  value       TEXT,
  action      TEXT NOT NULL,
  rule        TEXT
);
CREATE INDEX drift_run ON drift(run_id);
-- The winner of a split attribute changing (`mvsync authority`, a split finding's history): a
-- sync found the rule that contributes attr of a metaverse object of object_type changed from
-- from_rule to to_rule.  run_id as in drift.
CREATE TABLE winner_change (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER,
  object_type TEXT NOT NULL,
  attr        TEXT NOT NULL,
  from_rule   TEXT NOT NULL,
  to_rule     TEXT NOT NULL
);
CREATE INDEX winner_change_run ON winner_change(run_id);
-- Full steps an admin asked the next cycle to run (`mvsync schedule override`, as Connect's
-- Set-ADSyncSchedulerConnectorOverride -FullImportRequired / -FullSyncRequired): kept until a
-- cycle that ran them succeeds.  since: when the override was last set.
CREATE TABLE schedule_override (
  connector   TEXT PRIMARY KEY,
  full_import INTEGER NOT NULL DEFAULT 0,
  full_sync   INTEGER NOT NULL DEFAULT 0,
  since       TEXT NOT NULL
);

-- migration 5

-- Which attributes the imports since the object was last synced changed: a set of attribute
-- names hashed to 64 bits (attr_name_bit, engine/attrset.c); 0 once a sync has taken the
-- object, -1 (every bit) when not known.  A delta sync rewrites an updated object's join-key
-- rows only when a key attribute's bit is set, instead of reading the rows to compare
-- (docs/internals/sync.md, "Join keys").
ALTER TABLE cs_object ADD COLUMN changed_attrs INTEGER NOT NULL DEFAULT -1;

-- migration 6

-- An object's pending import, apart from the object: a delta sync that takes an object
-- deletes its row here instead of rewriting the object's row (and its page) to clear the
-- state.  A row exists while the import state is not 0 (1 add, 2 update, 3 delete,
-- 4 delete/add); renamed and changed_attrs as in migrations 1 and 5.  Every other object has
-- none (import state 0, not renamed, no attribute changed), but for the rows below.
CREATE TABLE cs_pending (
  cs_id         INTEGER PRIMARY KEY,   -- cs_object.id
  import_state  INTEGER NOT NULL,
  renamed       INTEGER NOT NULL,
  changed_attrs INTEGER NOT NULL
);
-- A state-0 row with changed_attrs -1 came from migration 5's default or from a rename the
-- engine gave the object, whose key rows it did not rewrite then: kept where the join keys
-- read the DN ("<connector>:dn;" in the key signature), so the object's next import
-- rewrites them.
INSERT INTO cs_pending(cs_id, import_state, renamed, changed_attrs)
  SELECT id, import_state, renamed, changed_attrs FROM cs_object
  WHERE import_state <> 0 OR (changed_attrs <> 0 AND
        (SELECT value FROM meta WHERE key = 'key_attrs') LIKE '%:dn;%');
DROP INDEX cs_object_pending;
ALTER TABLE cs_object DROP COLUMN import_state;
ALTER TABLE cs_object DROP COLUMN renamed;
ALTER TABLE cs_object DROP COLUMN changed_attrs;
