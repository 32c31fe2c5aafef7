-- Parley schema, version 3: party totals. Each party (a user or a data
-- source, in one channel) has one row with the number of its
-- conversations, the sum of its side's unread counts and the number of
-- its conversations with something unread (store.PartyTotals), so that
-- Unread and the total of a party's inbox are one seek whatever the
-- party's size. Triggers on conversations keep the rows in the
-- transaction (and savepoint) of every write, with the arithmetic of
-- store.Change: a new conversation adds its contribution, a change of an
-- unread count adds the difference. A party's channel and ids never
-- change, so nothing else needs a trigger.

CREATE TABLE party_totals (
	channel              TEXT    NOT NULL,
	side                 TEXT    NOT NULL, -- 'user' or 'datasource'
	party_id             TEXT    NOT NULL,
	conversations        INTEGER NOT NULL,
	unread_messages      INTEGER NOT NULL,
	unread_conversations INTEGER NOT NULL,
	PRIMARY KEY (channel, side, party_id)
) WITHOUT ROWID;

CREATE TRIGGER party_totals_insert AFTER INSERT ON conversations
BEGIN
	INSERT INTO party_totals (channel, side, party_id, conversations, unread_messages, unread_conversations)
	VALUES (NEW.channel, 'user', NEW.user_id, 1, NEW.user_unread, NEW.user_unread > 0)
	ON CONFLICT (channel, side, party_id) DO UPDATE SET
		conversations = conversations + 1,
		unread_messages = unread_messages + excluded.unread_messages,
		unread_conversations = unread_conversations + excluded.unread_conversations;
	INSERT INTO party_totals (channel, side, party_id, conversations, unread_messages, unread_conversations)
	VALUES (NEW.channel, 'datasource', NEW.datasource_id, 1, NEW.seller_unread, NEW.seller_unread > 0)
	ON CONFLICT (channel, side, party_id) DO UPDATE SET
		conversations = conversations + 1,
		unread_messages = unread_messages + excluded.unread_messages,
		unread_conversations = unread_conversations + excluded.unread_conversations;
END;

CREATE TRIGGER party_totals_user_unread AFTER UPDATE OF user_unread ON conversations
WHEN NEW.user_unread <> OLD.user_unread
BEGIN
	UPDATE party_totals SET
		unread_messages = unread_messages + NEW.user_unread - OLD.user_unread,
		unread_conversations = unread_conversations + (NEW.user_unread > 0) - (OLD.user_unread > 0)
	WHERE channel = NEW.channel AND side = 'user' AND party_id = NEW.user_id;
END;

CREATE TRIGGER party_totals_seller_unread AFTER UPDATE OF seller_unread ON conversations
WHEN NEW.seller_unread <> OLD.seller_unread
BEGIN
	UPDATE party_totals SET
		unread_messages = unread_messages + NEW.seller_unread - OLD.seller_unread,
		unread_conversations = unread_conversations + (NEW.seller_unread > 0) - (OLD.seller_unread > 0)
	WHERE channel = NEW.channel AND side = 'datasource' AND party_id = NEW.datasource_id;
END;

-- The totals of the conversations stored before this version.
INSERT INTO party_totals (channel, side, party_id, conversations, unread_messages, unread_conversations)
SELECT channel, 'user', user_id, count(*), sum(user_unread), sum(user_unread > 0)
FROM conversations GROUP BY channel, user_id;
INSERT INTO party_totals (channel, side, party_id, conversations, unread_messages, unread_conversations)
SELECT channel, 'datasource', datasource_id, count(*), sum(seller_unread), sum(seller_unread > 0)
FROM conversations GROUP BY channel, datasource_id;

-- Unread no longer reads the conversations: the partial indexes that
-- served it would only cost every write.
DROP INDEX conversations_user_unread;
DROP INDEX conversations_seller_unread;
