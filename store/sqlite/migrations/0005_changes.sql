-- Parley schema, version 5: the change log (store.ChangeLog), which a
-- Service reads to stream each party's changes and to resume a stream.

-- One row per change, written in the transaction of its write. The file
-- has one writer at a time and commits in the order the positions are
-- drawn, so a reader never sees a position filled in behind it.
-- AUTOINCREMENT: a position is never reused, even after the newest
-- changes are trimmed.
CREATE TABLE changes (
	position        INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT    NOT NULL,
	channel         TEXT    NOT NULL,
	conversation_id INTEGER NOT NULL,
	user_id         TEXT    NOT NULL,
	datasource_id   TEXT    NOT NULL,
	side            TEXT    NOT NULL,
	message_id      INTEGER NOT NULL,
	seq             INTEGER NOT NULL,
	status          TEXT    NOT NULL,
	at              INTEGER NOT NULL
);

-- A party's changes after a position: one range of each index.
CREATE INDEX changes_user ON changes (channel, user_id, position);
CREATE INDEX changes_datasource ON changes (channel, datasource_id, position);

-- The highest position TrimChanges removed (one row).
CREATE TABLE change_horizon (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	position INTEGER NOT NULL
);
INSERT INTO change_horizon (id, position) VALUES (1, 0);
