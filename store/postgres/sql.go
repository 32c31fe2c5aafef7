package postgres

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// queries holds the statements of a Store, with its schema written in.
// Each is a single statement, so that most operations are one round trip.
type queries struct {
	schema string // the quoted schema identifier

	mod   modQueries   // store.Moderation
	erase eraseQueries // store.Privacy

	// createConversation checks the idempotency record and, if there is
	// none, inserts the conversation, its first message, the events and
	// the idempotency record. Its one row is (conversation id, message id,
	// idempotency found, fingerprint, conversation id, message id).
	createConversation string
	// appendMessage checks the idempotency record and, if there is none,
	// applies a message to the conversation (store.ApplyMessage in SQL:
	// the UPDATE takes the row lock, the message id is drawn under it, the
	// message is dated no earlier than the conversation's last activity) and
	// inserts the message, the events and the idempotency record. Its one
	// row is (written, the conversation's columns, idempotency found,
	// fingerprint, conversation id, message id).
	// $23, when not NULL, is the status the conversation must still have
	// (the one a Prepare callback decided on), and $24 its code (so that
	// a conversation that the Store remembers is the one it finds):
	// otherwise nothing is written and the row says neither written nor
	// found.
	// It sends no notification: the Store's announcer does, after the
	// commit (see announcer).
	appendMessage string
	// appendPlain is appendMessage without an idempotency key and
	// without events. Its parameters: conversation id, time, sender kind,
	// code, sender id, sender user type, content, language, and the
	// guard's status and code. Its result row is appendMessage's.
	appendPlain string
	// announce notifies the schema's feed channel with each payload of
	// $1, in one transaction, if a feed listens on it in the database.
	announce string
	// sweep returns, for each conversation with appended messages (not
	// the first, which starts it) whose id is in ($1, $2], the highest of
	// those ids.
	sweep string
	// lockConversation selects a conversation FOR UPDATE.
	lockConversation string
	// replayKey selects an idempotency record ($1, $2) with the message
	// its write stored: (fingerprint, conversation id, message id, message
	// found, the message's columns).
	replayKey string
	// replayConversation selects the conversation of an idempotency
	// record.
	replayConversation string
	// conflict finds what took a create's place: the idempotency record
	// and the conversation with the key.
	conflict string

	getConversation string
	byCode          string
	getMessage      string
	setStatus       string
	// readPosition returns the Seq of message $1 of conversation $2 and
	// the number of messages after it whose sender kind is $3.
	readPosition string
	// setRead sets both sides' read state (store.ApplyRead decides it).
	setRead string

	// changeLock takes the row lock of change_log: the readers that
	// assign positions run one at a time.
	changeLock string
	// changeSequence assigns positions above the head to the committed
	// changes without one, in insertion order, moves the head, and
	// returns (head, horizon).
	changeSequence string
	// The change queries: the whole log, a channel, a user's and a data
	// source's changes after a position.
	changesAll, changesChannel, changesUser, changesDataSource string
	// trimChanges removes the positioned changes before $1, raises the
	// horizon and returns how many it removed.
	trimChanges string

	listMessages string
	messageTotal string
	// messageSets reads the newest $2 messages of each conversation of
	// the array $1 (distinct ids): per id one backward range of
	// messages_seq, stopped after $2 rows (LATERAL).
	messageSets        string
	messagesAfter      string
	partyTotals        string
	claimEvents        string
	claimEventsDigest  string
	completeEvents     string
	failEvent          string
	listDeadEvents     string
	retryDeadEvent     string
	conversationsTable string
}

// eventsInsert returns the INSERT of the events given as column arrays
// starting at parameter first, for the conversation and message ids of
// the CTE from.
func eventsInsert(s string, first int, from, convID, msgID string) string {
	p := func(i int, typ string) string { return fmt.Sprintf("$%d::%s[]", first+i, typ) }
	return `INSERT INTO ` + s + `.events (id, kind, channel, conversation_id, message_id, conversation_type,
		recipient_kind, recipient_id, sender_kind, sender_id, created_at, due_at, digest_key, state, attempts, last_error)
	SELECT e.id, e.kind, e.channel, ` + convID + `, ` + msgID + `, e.ctype, e.rkind, e.rid, e.skind, e.sid,
		e.created_at, e.due_at, e.digest_key, 'pending', 0, ''
	FROM ` + from + `, unnest(` + strings.Join([]string{
		p(0, "text"), p(1, "text"), p(2, "text"), p(3, "text"), p(4, "text"), p(5, "text"),
		p(6, "text"), p(7, "text"), p(8, "timestamptz"), p(9, "timestamptz"), p(10, "text"),
	}, ", ") + `) AS e (id, kind, channel, ctype, rkind, rid, skind, sid, created_at, due_at, digest_key)`
}

// applySet is the SET list of an append (store.ApplyMessage in SQL): the
// message id drawn from msgSeq under the row lock, dated at the time
// parameter at or later, sent by a sender of the kind parameter kind.
func applySet(msgSeq, at, kind string) string {
	return `		last_seq = c.last_seq + 1,
		message_count = c.message_count + 1,
		last_message_id = ` + msgSeq + `,
		last_message_at = GREATEST(` + at + `::timestamptz, c.last_message_at, c.modified_at),
		modified_at = GREATEST(` + at + `::timestamptz, c.last_message_at, c.modified_at),
		user_read_seq = CASE WHEN ` + kind + `::text = 'datasource' THEN c.user_read_seq ELSE c.last_seq + 1 END,
		user_unread = CASE WHEN ` + kind + `::text = 'datasource' THEN c.user_unread + 1 ELSE 0 END,
		seller_read_seq = CASE WHEN ` + kind + `::text = 'datasource' THEN c.last_seq + 1 ELSE c.seller_read_seq END,
		seller_unread = CASE WHEN ` + kind + `::text = 'datasource' THEN 0 ELSE c.seller_unread + 1 END`
}

// guardCond is the condition of a guarded append: true if the status
// parameter is NULL, else the conversation has that status and the code
// of the code parameter.
func guardCond(status, code string) string {
	return `(` + status + `::text IS NULL OR (c.status = ` + status + `::text AND c.code = ` + code + `::uuid))`
}

// literal returns s as an SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// changeInsertColumns are the columns a write gives a change.
const changeInsertColumns = `kind, channel, conversation_id, user_id, datasource_id, side, message_id, seq, status, at`

func newQueries(schema string) queries {
	s := pgx.Identifier{schema}.Sanitize()
	// nextval takes the sequence's name as text.
	msgSeq := "nextval('" + strings.ReplaceAll(pgx.Identifier{schema, "message_ids"}.Sanitize(), "'", "''") + "')"
	conv := list(convColumns, "")
	var q queries
	q.schema = s
	q.mod = newModQueries(s)
	q.erase = newEraseQueries(s)
	q.conversationsTable = s + ".conversations"

	q.createConversation = `WITH idem AS (
	SELECT fingerprint, conversation_id, message_id FROM ` + s + `.idempotency WHERE scope = $1::text AND key = $2::text
), conv AS (
	INSERT INTO ` + s + `.conversations (code, channel, type, user_id, datasource_id, item_kind, item_id, subject,
		status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
		created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
		user_read_seq, user_unread, seller_read_seq, seller_unread)
	SELECT $4::uuid, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text,
		$12::text, $13::text, $14::text, $15::text, $16::text, $17::text, $18::text,
		$19::timestamptz, $20::timestamptz, $21::timestamptz, ` + msgSeq + `, $22::bigint, $23::bigint,
		$24::bigint, $25::bigint, $26::bigint, $27::bigint
	WHERE NOT EXISTS (SELECT FROM idem)
	RETURNING id, last_message_id
), msg AS (
	INSERT INTO ` + s + `.messages (id, code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT conv.last_message_id, $28::uuid, conv.id, 1, $29::text, $30::text, $31::text, $32::text, $33::text, $34::timestamptz
	FROM conv
), ev AS (
	` + eventsInsert(s, 35, "conv", "conv.id", "conv.last_message_id") + `
), rec AS (
	INSERT INTO ` + s + `.idempotency (scope, key, fingerprint, conversation_id, message_id)
	SELECT $1, $2, $3::text, conv.id, conv.last_message_id FROM conv WHERE $1::text IS NOT NULL
), chg AS (
	INSERT INTO ` + s + `.changes (` + changeInsertColumns + `)
	SELECT 'conversation.started', $5::text, conv.id, $7::text, $8::text, $13::text, conv.last_message_id, 1, '', $34::timestamptz
	FROM conv
)
SELECT coalesce(conv.id, 0), coalesce(conv.last_message_id, 0),
	idem.fingerprint IS NOT NULL, coalesce(idem.fingerprint, ''), coalesce(idem.conversation_id, 0), coalesce(idem.message_id, 0)
FROM (VALUES (1)) AS one (x) LEFT JOIN conv ON true LEFT JOIN idem ON true`

	q.appendMessage = `WITH idem AS (
	SELECT fingerprint, conversation_id, message_id FROM ` + s + `.idempotency WHERE scope = $1::text AND key = $2::text
), conv AS (
	UPDATE ` + s + `.conversations AS c SET
` + applySet(msgSeq, "$5", "$6") + `
	WHERE c.id = $4::bigint AND NOT EXISTS (SELECT FROM idem) AND ` + guardCond("$23", "$24") + `
	RETURNING ` + list(convColumns, "c") + `
), msg AS (
	INSERT INTO ` + s + `.messages (id, code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT conv.last_message_id, $7::uuid, conv.id, conv.last_seq, $6::text, $8::text, $9::text, $10::text, $11::text, conv.last_message_at
	FROM conv
), ev AS (
	` + eventsInsert(s, 12, "conv", "conv.id", "conv.last_message_id") + `
), rec AS (
	INSERT INTO ` + s + `.idempotency (scope, key, fingerprint, conversation_id, message_id)
	SELECT $1, $2, $3::text, conv.id, conv.last_message_id FROM conv WHERE $1::text IS NOT NULL
), chg AS (
	INSERT INTO ` + s + `.changes (` + changeInsertColumns + `)
	SELECT 'message.posted', conv.channel, conv.id, conv.user_id, conv.datasource_id, $6::text,
		conv.last_message_id, conv.last_seq, '', conv.last_message_at
	FROM conv
)
SELECT conv.id IS NOT NULL, ` + coalesced(convColumns, "conv") + `,
	idem.fingerprint IS NOT NULL, coalesce(idem.fingerprint, ''), coalesce(idem.conversation_id, 0), coalesce(idem.message_id, 0)
FROM (VALUES (1)) AS one (x) LEFT JOIN conv ON true LEFT JOIN idem ON true`
	q.appendPlain = `WITH conv AS (
	UPDATE ` + s + `.conversations AS c SET
` + applySet(msgSeq, "$2", "$3") + `
	WHERE c.id = $1::bigint AND ` + guardCond("$9", "$10") + `
	RETURNING ` + list(convColumns, "c") + `
), msg AS (
	INSERT INTO ` + s + `.messages (id, code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT conv.last_message_id, $4::uuid, conv.id, conv.last_seq, $3::text, $5::text, $6::text, $7::text, $8::text, conv.last_message_at
	FROM conv
), chg AS (
	INSERT INTO ` + s + `.changes (` + changeInsertColumns + `)
	SELECT 'message.posted', conv.channel, conv.id, conv.user_id, conv.datasource_id, $3::text,
		conv.last_message_id, conv.last_seq, '', conv.last_message_at
	FROM conv
)
SELECT conv.id IS NOT NULL, ` + coalesced(convColumns, "conv") + `, false, '', 0::bigint, 0::bigint
FROM (VALUES (1)) AS one (x) LEFT JOIN conv ON true`

	// The EXISTS is a one-time filter: without a listener no row is
	// produced and pg_notify is not called, so the transaction takes no
	// lock and writes nothing.
	q.announce = `SELECT count(pg_notify(` + literal(feedChannel(schema)) + `, p)) FROM unnest($1::text[]) AS p
WHERE EXISTS (SELECT FROM pg_stat_activity
	WHERE datname = current_database() AND application_name = ` + literal(feedListenerName(schema)) + `)`
	q.sweep = `SELECT conversation_id, max(id) FROM ` + s + `.messages WHERE id > $1 AND id <= $2 AND seq > 1 GROUP BY conversation_id`

	q.lockConversation = `SELECT ` + conv + ` FROM ` + s + `.conversations WHERE id = $1 FOR UPDATE`
	q.conflict = `SELECT idem.fingerprint IS NOT NULL, coalesce(idem.fingerprint, ''), coalesce(idem.conversation_id, 0),
	coalesce(idem.message_id, 0), coalesce(c.id, 0)
FROM (VALUES (1)) AS one (x)
LEFT JOIN ` + s + `.idempotency AS idem ON idem.scope = $1::text AND idem.key = $2::text
LEFT JOIN ` + s + `.conversations AS c ON (c.channel, c.user_id, c.datasource_id, c.type, c.item_kind, c.item_id) =
	($3::text, $4::text, $5::text, $6::text, $7::text, $8::text)`

	q.getConversation = `SELECT ` + conv + ` FROM ` + s + `.conversations WHERE id = $1`
	q.byCode = `SELECT ` + conv + ` FROM ` + s + `.conversations WHERE code = $1`
	q.getMessage = `SELECT ` + list(messageColumns, "") + ` FROM ` + s + `.messages WHERE id = $1`
	// setStatus logs a change only when the status differs from the one
	// the locked row had.
	q.setStatus = `WITH old AS (
	SELECT id, status FROM ` + s + `.conversations WHERE id = $1 FOR UPDATE
), upd AS (
	UPDATE ` + s + `.conversations AS c SET status = $2, modified_at = GREATEST(c.modified_at, $3)
	FROM old WHERE c.id = old.id AND ($4::text IS NULL OR c.status = $4::text)
	RETURNING ` + list(convColumns, "c") + `, old.status AS was
), chg AS (
	INSERT INTO ` + s + `.changes (` + changeInsertColumns + `)
	SELECT 'conversation.status', upd.channel, upd.id, upd.user_id, upd.datasource_id, $5::text, 0, 0, upd.status, $3::timestamptz
	FROM upd WHERE upd.was <> upd.status
)
SELECT ` + list(convColumns, "upd") + ` FROM upd`
	q.replayKey = `SELECT i.fingerprint, i.conversation_id, i.message_id, m.id IS NOT NULL, ` + coalesced(messageColumns, "m") + `
FROM ` + s + `.idempotency AS i LEFT JOIN ` + s + `.messages AS m ON m.id = i.message_id
WHERE i.scope = $1 AND i.key = $2`
	q.replayConversation = `SELECT ` + list(convColumns, "c") + ` FROM ` + s + `.conversations AS c
WHERE c.id = (SELECT conversation_id FROM ` + s + `.idempotency WHERE scope = $1 AND key = $2)`
	q.readPosition = `SELECT m.seq, (SELECT count(*) FROM ` + s + `.messages AS o
	WHERE o.conversation_id = m.conversation_id AND o.seq > m.seq AND o.sender_kind = $3)
FROM ` + s + `.messages AS m WHERE m.id = $1 AND m.conversation_id = $2`
	// setRead logs the read receipt ($6 side, $7 message, $8 seq, $9
	// time).
	q.setRead = `WITH upd AS (
	UPDATE ` + s + `.conversations SET
		user_read_seq = $2, user_unread = $3, seller_read_seq = $4, seller_unread = $5
	WHERE id = $1 RETURNING ` + conv + `
), chg AS (
	INSERT INTO ` + s + `.changes (` + changeInsertColumns + `)
	SELECT 'conversation.read', upd.channel, upd.id, upd.user_id, upd.datasource_id, $6::text, $7::bigint, $8::bigint, '', $9::timestamptz
	FROM upd
)
SELECT ` + list(convColumns, "upd") + ` FROM upd`

	q.changeLock = `SELECT head FROM ` + s + `.change_log WHERE id = 1 FOR UPDATE`
	q.changeSequence = `WITH p AS (
	SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ` + s + `.changes WHERE position IS NULL
), h AS (
	SELECT head FROM ` + s + `.change_log WHERE id = 1
), u AS (
	UPDATE ` + s + `.changes AS c SET position = h.head + p.rn FROM p, h WHERE c.id = p.id RETURNING 1
), fin AS (
	UPDATE ` + s + `.change_log SET head = head + (SELECT count(*) FROM u)
	WHERE id = 1 AND EXISTS (SELECT FROM u) RETURNING head, horizon
)
SELECT head, horizon FROM fin
UNION ALL
SELECT head, horizon FROM ` + s + `.change_log WHERE id = 1 AND NOT EXISTS (SELECT FROM fin)`
	changes := `SELECT position, ` + changeInsertColumns + ` FROM ` + s + `.changes WHERE position > $1`
	q.changesAll = changes + ` ORDER BY position LIMIT $2`
	q.changesChannel = changes + ` AND channel = $2 ORDER BY position LIMIT $3`
	q.changesUser = changes + ` AND channel = $2 AND user_id = $3 ORDER BY position LIMIT $4`
	q.changesDataSource = changes + ` AND channel = $2 AND datasource_id = $3 ORDER BY position LIMIT $4`
	q.trimChanges = `WITH d AS (
	DELETE FROM ` + s + `.changes WHERE at < $1 AND position IS NOT NULL RETURNING position
)
UPDATE ` + s + `.change_log SET horizon = GREATEST(horizon, coalesce((SELECT max(position) FROM d), 0))
WHERE id = 1 RETURNING (SELECT count(*) FROM d)`

	msgs := list(messageColumns, "")
	q.listMessages = `SELECT ` + msgs + ` FROM ` + s + `.messages
WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`
	q.messageSets = `SELECT ` + list(messageColumns, "m") + ` FROM unnest($1::bigint[]) AS i (cid)
CROSS JOIN LATERAL (SELECT ` + msgs + ` FROM ` + s + `.messages
	WHERE conversation_id = i.cid AND NOT ($3::boolean AND hidden) ORDER BY seq DESC LIMIT $2) AS m`
	q.messageTotal = `SELECT coalesce((SELECT message_count FROM ` + s + `.conversations WHERE id = $1), 0)`
	// messagesAfter reads the messages after a position, in one range of
	// messages_conversation_id: after the id $2 and after the id of the
	// last message at or before the Seq $3 (one seek in messages_seq),
	// whichever is later; ids grow with Seq in a conversation.
	q.messagesAfter = `SELECT ` + msgs + ` FROM ` + s + `.messages
WHERE conversation_id = $1 AND id > GREATEST($2::bigint, coalesce((SELECT id FROM ` + s + `.messages
	WHERE conversation_id = $1 AND seq <= $3::bigint ORDER BY seq DESC LIMIT 1), 0))
ORDER BY id LIMIT $4`
	// partyTotals sums the parts of a party's totals (kept by the trigger
	// of migration 3): at most 32 rows of one index range, whatever the
	// party's size.
	q.partyTotals = `SELECT coalesce(sum(conversations), 0)::bigint, coalesce(sum(unread_messages), 0)::bigint,
	coalesce(sum(unread_conversations), 0)::bigint
FROM ` + s + `.party_totals WHERE channel = $1 AND side = $2 AND party_id = $3`

	ev := list(eventColumns, "e")
	// The claims lock their rows with SKIP LOCKED: concurrent workers
	// pass over each other's uncommitted claims instead of waiting, and a
	// committed claim is rechecked against its new lease_until.
	due := `due AS MATERIALIZED (
	SELECT id, digest_key FROM ` + s + `.events
	WHERE state = 'pending' AND due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
	ORDER BY due_at, id LIMIT $4
	FOR UPDATE SKIP LOCKED
)`
	claim := `UPDATE ` + s + `.events AS e SET claimed_by = $2, lease_until = $3, attempts = e.attempts + 1`
	q.claimEvents = `WITH ` + due + `, upd AS (
	` + claim + ` FROM due WHERE e.id = due.id RETURNING ` + ev + `
)
SELECT * FROM upd ORDER BY due_at, id`
	q.claimEventsDigest = `WITH ` + due + `, extra AS MATERIALIZED (
	SELECT id FROM ` + s + `.events
	WHERE state = 'pending' AND digest_key IN (SELECT digest_key FROM due)
		AND id NOT IN (SELECT id FROM due) AND (lease_until IS NULL OR lease_until <= $1)
	FOR UPDATE SKIP LOCKED
), upd AS (
	` + claim + `
	WHERE e.id IN (SELECT id FROM due UNION ALL SELECT id FROM extra) RETURNING ` + ev + `
)
SELECT * FROM upd ORDER BY due_at, id`
	q.completeEvents = `UPDATE ` + s + `.events SET state = 'done', lease_until = NULL, done_at = $3
WHERE id = ANY($2::text[]) AND state = 'pending' AND claimed_by = $1`
	q.failEvent = `UPDATE ` + s + `.events SET last_error = $3,
	state = CASE WHEN $5::bool THEN 'dead' ELSE state END,
	due_at = CASE WHEN $5::bool THEN due_at ELSE $4 END,
	claimed_by = NULL, lease_until = NULL
WHERE id = $2 AND state = 'pending' AND claimed_by = $1`
	q.listDeadEvents = `SELECT ` + list(eventColumns, "") + ` FROM ` + s + `.events
WHERE state = 'dead' AND id > $1 ORDER BY id LIMIT $2`
	q.retryDeadEvent = `UPDATE ` + s + `.events SET state = 'pending', due_at = $2, attempts = 0,
	claimed_by = NULL, lease_until = NULL
WHERE id = $1 AND state = 'dead'`
	return q
}
