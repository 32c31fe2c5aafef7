-- Indexed lookups that version 1 answered by scanning. The migration runs
-- with search_path set to the store's schema, in one transaction: building
-- the indexes blocks writes to their tables until it commits (a large
-- existing database may prefer to build them with CREATE INDEX
-- CONCURRENTLY, under these names, before upgrading).

-- A conversation's messages by id: the messages after any message id
-- (polling with the last id a client has, whatever conversation it came
-- from) are one range of this index.
CREATE INDEX IF NOT EXISTS messages_conversation_id ON messages (conversation_id, id);

-- A conversation by its code (seed 001 addresses conversations by code):
-- one seek, and two conversations never share a code.
CREATE UNIQUE INDEX IF NOT EXISTS conversations_code ON conversations (code);
