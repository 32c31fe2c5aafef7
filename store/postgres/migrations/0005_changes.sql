-- The change log (store.ChangeLog), which a Service reads to stream each
-- party's changes and to resume a stream. The migration runs with
-- search_path set to the store's schema, in one transaction.
--
-- Concurrent transactions draw ids in one order and commit in another, so
-- a position drawn at insert could be filled in behind a reader that has
-- already passed it. A write therefore inserts its change without a
-- position (id only records the insertion order), and readers assign
-- positions to the committed changes that lack one, one reader at a time
-- (under the lock of change_log's row), above the head: every position
-- becomes visible at once with all those below it.
CREATE TABLE changes (
	id              bigserial   PRIMARY KEY,
	position        bigint,
	kind            text        NOT NULL,
	channel         text        NOT NULL,
	conversation_id bigint      NOT NULL,
	user_id         text        NOT NULL,
	datasource_id   text        NOT NULL,
	side            text        NOT NULL,
	message_id      bigint      NOT NULL,
	seq             bigint      NOT NULL,
	status          text        NOT NULL,
	at              timestamptz NOT NULL
);

-- Positioned changes: the whole log after a position, and a party's.
CREATE UNIQUE INDEX changes_position ON changes (position);
CREATE INDEX changes_user ON changes (channel, user_id, position) WHERE position IS NOT NULL;
CREATE INDEX changes_datasource ON changes (channel, datasource_id, position) WHERE position IS NOT NULL;
-- The changes still waiting for a position, in insertion order.
CREATE INDEX changes_pending ON changes (id) WHERE position IS NULL;

-- head: the newest position assigned; horizon: the highest position
-- TrimChanges removed. Its one row is the lock of the readers that assign
-- positions.
CREATE TABLE change_log (
	id      integer PRIMARY KEY CHECK (id = 1),
	head    bigint  NOT NULL,
	horizon bigint  NOT NULL
);
INSERT INTO change_log (id, head, horizon) VALUES (1, 0, 0);
