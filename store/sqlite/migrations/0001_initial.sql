-- Parley schema, version 1: conversations, messages, the outbox of
-- notification events and the idempotency records of writes.
--
-- Times are INTEGER unix microseconds, UTC. Every hot query is served by an
-- index in the order it is listed in (see plan_test.go).

CREATE TABLE conversations (
	id                INTEGER PRIMARY KEY,
	code              BLOB    NOT NULL,
	channel           TEXT    NOT NULL,
	type              TEXT    NOT NULL,
	user_id           TEXT    NOT NULL,
	datasource_id     TEXT    NOT NULL,
	item_kind         TEXT    NOT NULL,
	item_id           TEXT    NOT NULL,
	subject           TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	started_by        TEXT    NOT NULL,
	language          TEXT    NOT NULL,
	user_first_name   TEXT    NOT NULL,
	user_last_name    TEXT    NOT NULL,
	product_base_code TEXT    NOT NULL,
	order_number      TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	modified_at       INTEGER NOT NULL,
	last_message_at   INTEGER NOT NULL,
	last_message_id   INTEGER NOT NULL,
	last_seq          INTEGER NOT NULL,
	message_count     INTEGER NOT NULL,
	user_read_seq     INTEGER NOT NULL,
	user_unread       INTEGER NOT NULL,
	seller_read_seq   INTEGER NOT NULL,
	seller_unread     INTEGER NOT NULL,
	-- public is 1 for the types listed publicly (questions and reviews).
	public            INTEGER GENERATED ALWAYS AS (type IN ('question', 'review')) VIRTUAL
);

-- The conversation key: one conversation per channel, user, data source,
-- type and item ("" item kind and id: no item).
CREATE UNIQUE INDEX conversations_key
	ON conversations (channel, user_id, datasource_id, type, item_kind, item_id);

-- Listings, newest activity first: (last_message_at, id) descending, id
-- being the rowid that every index ends with.
CREATE INDEX conversations_channel ON conversations (channel, last_message_at);
CREATE INDEX conversations_user    ON conversations (channel, user_id, last_message_at);
CREATE INDEX conversations_seller  ON conversations (channel, datasource_id, last_message_at);
CREATE INDEX conversations_item    ON conversations (channel, item_kind, item_id, last_message_at);
CREATE INDEX conversations_public  ON conversations (channel, public, last_message_at);

-- Unread badges: only the conversations with something unread.
CREATE INDEX conversations_user_unread
	ON conversations (channel, user_id, user_unread) WHERE user_unread > 0;
CREATE INDEX conversations_seller_unread
	ON conversations (channel, datasource_id, seller_unread) WHERE seller_unread > 0;

CREATE TABLE messages (
	id               INTEGER PRIMARY KEY,
	conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
	seq              INTEGER NOT NULL,
	code             BLOB    NOT NULL,
	sender_kind      TEXT    NOT NULL,
	sender_id        TEXT    NOT NULL,
	sender_user_type TEXT    NOT NULL,
	content          TEXT    NOT NULL,
	language         TEXT    NOT NULL,
	created_at       INTEGER NOT NULL
);

-- A conversation's messages by position: pages, polling, unread counts.
CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq);

-- The outbox. lease_until and claimed_by are NULL when nobody holds the event.
CREATE TABLE events (
	id                TEXT    PRIMARY KEY,
	kind              TEXT    NOT NULL,
	channel           TEXT    NOT NULL,
	conversation_id   INTEGER NOT NULL,
	message_id        INTEGER NOT NULL,
	conversation_type TEXT    NOT NULL,
	recipient_kind    TEXT    NOT NULL,
	recipient_id      TEXT    NOT NULL,
	sender_kind       TEXT    NOT NULL,
	sender_id         TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	due_at            INTEGER NOT NULL,
	digest_key        TEXT    NOT NULL,
	state             TEXT    NOT NULL,
	attempts          INTEGER NOT NULL,
	last_error        TEXT    NOT NULL,
	claimed_by        TEXT,
	lease_until       INTEGER
) WITHOUT ROWID;

CREATE INDEX events_due    ON events (due_at, id)  WHERE state = 'pending';
CREATE INDEX events_digest ON events (digest_key)  WHERE state = 'pending';
CREATE INDEX events_dead   ON events (id)          WHERE state = 'dead';

-- Idempotency records: the first result of a write, by the writer's scope
-- and the client's key.
CREATE TABLE idempotency (
	scope           TEXT    NOT NULL,
	key             TEXT    NOT NULL,
	fingerprint     TEXT    NOT NULL,
	conversation_id INTEGER NOT NULL,
	message_id      INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) WITHOUT ROWID;
