-- Parley schema, version 2: indexed lookups that version 1 answered by
-- scanning.

-- A conversation's messages by id: the messages after any message id
-- (polling with the last id a client has, whatever conversation it came
-- from) are one range of this index. id is the rowid, which every index
-- ends with; naming it makes the range usable.
CREATE INDEX messages_conversation_id ON messages (conversation_id, id);

-- A conversation by its code (seed 001 addresses conversations by code):
-- one seek, and two conversations never share a code.
CREATE UNIQUE INDEX conversations_code ON conversations (code);
