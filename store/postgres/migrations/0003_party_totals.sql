-- Party totals (store.PartyTotals): for each party (a user or a data
-- source, in one channel) the number of its conversations, the sum of its
-- side's unread counts and the number of its conversations with something
-- unread, so that Unread and the total of a party's inbox read a fixed
-- number of rows whatever the party's size. The migration runs with
-- search_path set to the store's schema, in one transaction.
--
-- A party's totals are kept in 32 parts, part = conversation id % 32, and
-- read as their sum: the writers of one seller's many conversations
-- update one of 32 rows each, so that they seldom wait for each other's
-- commit on one row lock. The rows are updated in place all the time:
-- room on each page keeps the updates HOT.
CREATE TABLE party_totals (
    channel              text     NOT NULL,
    side                 text     NOT NULL, -- 'user' or 'datasource'
    party_id             text     NOT NULL,
    part                 smallint NOT NULL,
    conversations        bigint   NOT NULL,
    unread_messages      bigint   NOT NULL,
    unread_conversations bigint   NOT NULL,
    CONSTRAINT party_totals_key PRIMARY KEY (channel, side, party_id, part)
) WITH (fillfactor = 50);

-- No write runs while the triggers are created and the totals counted:
-- the writes waiting on this lock are counted by the triggers once it is
-- released at commit.
LOCK TABLE conversations IN SHARE ROW EXCLUSIVE MODE;

-- The trigger keeps the totals in the transaction of every write, with
-- the arithmetic of store.Change: a new conversation adds its
-- contribution, a change of an unread count adds the difference. A
-- conversation's channel and parties never change. The user's row is
-- always updated before the data source's, so that two writes never wait
-- for each other in opposite orders. search_path is fixed to this schema,
-- whatever the session's.
CREATE FUNCTION party_totals_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    p smallint := NEW.id % 32;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO party_totals AS t (channel, side, party_id, part, conversations, unread_messages, unread_conversations)
        VALUES (NEW.channel, 'user', NEW.user_id, p, 1, NEW.user_unread, (NEW.user_unread > 0)::int),
               (NEW.channel, 'datasource', NEW.datasource_id, p, 1, NEW.seller_unread, (NEW.seller_unread > 0)::int)
        ON CONFLICT ON CONSTRAINT party_totals_key DO UPDATE SET
            conversations = t.conversations + 1,
            unread_messages = t.unread_messages + EXCLUDED.unread_messages,
            unread_conversations = t.unread_conversations + EXCLUDED.unread_conversations;
        RETURN NULL;
    END IF;
    IF NEW.user_unread <> OLD.user_unread THEN
        UPDATE party_totals SET
            unread_messages = unread_messages + NEW.user_unread - OLD.user_unread,
            unread_conversations = unread_conversations + (NEW.user_unread > 0)::int - (OLD.user_unread > 0)::int
        WHERE channel = NEW.channel AND side = 'user' AND party_id = NEW.user_id AND part = p;
    END IF;
    IF NEW.seller_unread <> OLD.seller_unread THEN
        UPDATE party_totals SET
            unread_messages = unread_messages + NEW.seller_unread - OLD.seller_unread,
            unread_conversations = unread_conversations + (NEW.seller_unread > 0)::int - (OLD.seller_unread > 0)::int
        WHERE channel = NEW.channel AND side = 'datasource' AND party_id = NEW.datasource_id AND part = p;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER party_totals_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION party_totals_apply();
CREATE TRIGGER party_totals_unread AFTER UPDATE OF user_unread, seller_unread ON conversations
    FOR EACH ROW WHEN (OLD.user_unread <> NEW.user_unread OR OLD.seller_unread <> NEW.seller_unread)
    EXECUTE FUNCTION party_totals_apply();

-- The totals of the conversations stored before this version.
INSERT INTO party_totals (channel, side, party_id, part, conversations, unread_messages, unread_conversations)
SELECT channel, 'user', user_id, (id % 32)::smallint, count(*), sum(user_unread), count(*) FILTER (WHERE user_unread > 0)
FROM conversations GROUP BY 1, 2, 3, 4
UNION ALL
SELECT channel, 'datasource', datasource_id, (id % 32)::smallint, count(*), sum(seller_unread), count(*) FILTER (WHERE seller_unread > 0)
FROM conversations GROUP BY 1, 2, 3, 4;

-- Unread no longer reads the conversations: the partial indexes that
-- served it would only cost every write.
DROP INDEX conversations_user_unread;
DROP INDEX conversations_datasource_unread;
