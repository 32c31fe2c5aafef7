-- Parley schema, version 4: trust and safety. Reports of messages, the
-- audit trail of operators' actions, and hidden messages and
-- conversations. (Version numbers may leave gaps: a missing version is
-- applied when it lands.)

-- Reports of messages. resolved_at is NULL while the report is open.
CREATE TABLE reports (
	id                 INTEGER PRIMARY KEY,
	channel            TEXT    NOT NULL,
	conversation_id    INTEGER NOT NULL,
	message_id         INTEGER NOT NULL,
	reporter_kind      TEXT    NOT NULL,
	reporter_id        TEXT    NOT NULL,
	reporter_user_type TEXT    NOT NULL,
	reason             TEXT    NOT NULL,
	note               TEXT    NOT NULL,
	state              TEXT    NOT NULL,
	created_at         INTEGER NOT NULL,
	resolved_at        INTEGER,
	resolved_by        TEXT    NOT NULL,
	outcome            TEXT    NOT NULL,
	resolution_note    TEXT    NOT NULL
);

-- One report per reporter and message.
CREATE UNIQUE INDEX reports_reporter ON reports (message_id, reporter_kind, reporter_id);

-- The moderation queue, oldest first, by state (id is the rowid).
CREATE INDEX reports_queue ON reports (channel, state, id);

-- The audit trail: append-only.
CREATE TABLE audit (
	id                INTEGER PRIMARY KEY,
	channel           TEXT    NOT NULL,
	staff             TEXT    NOT NULL,
	action            TEXT    NOT NULL,
	conversation_id   INTEGER NOT NULL,
	message_id        INTEGER NOT NULL,
	report_id         INTEGER NOT NULL,
	subject_kind      TEXT    NOT NULL,
	subject_id        TEXT    NOT NULL,
	subject_user_type TEXT    NOT NULL,
	reason            TEXT    NOT NULL,
	at                INTEGER NOT NULL
);

CREATE INDEX audit_channel      ON audit (channel, id);
CREATE INDEX audit_conversation ON audit (conversation_id, id);

-- Hidden content is kept: hidden marks it, hidden_messages counts a
-- conversation's hidden messages so that public counts leave them out.
ALTER TABLE conversations ADD COLUMN hidden          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN hidden_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages      ADD COLUMN hidden          INTEGER NOT NULL DEFAULT 0;
