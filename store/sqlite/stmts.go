package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The columns of a conversation and a message, in the order scanConversation
// and scanMessage read them.
const (
	conversationColumns = `id, code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language,
	user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread, hidden, hidden_messages`

	messageColumns = `id, conversation_id, seq, code, sender_kind, sender_id, sender_user_type,
	content, language, created_at, hidden`

	eventColumns = `id, kind, channel, conversation_id, message_id, conversation_type,
	recipient_kind, recipient_id, sender_kind, sender_id,
	created_at, due_at, digest_key, state, attempts, last_error`

	// notLeased holds for events that no unexpired lease holds at ?now.
	notLeased = `(lease_until IS NULL OR lease_until <= ?)`
)

// The statements every store method uses, prepared once at Open. Writer
// statements run inside write transactions (tx.StmtContext); reader
// statements run on the read pool.
var (
	// insertConversation inserts a conversation whose first message gets
	// the next message id: the write lock is held, so max(id)+1 is free.
	sqlInsertConversation = `INSERT INTO conversations (
	code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language,
	user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
	(SELECT coalesce(max(id), 0) + 1 FROM messages), ?, ?, ?, ?, ?, ?)
RETURNING id, last_message_id`

	sqlConversationByKey = `SELECT id FROM conversations
WHERE channel = ? AND user_id = ? AND datasource_id = ? AND type = ? AND item_kind = ? AND item_id = ?`

	// A new message is never hidden.
	sqlInsertMessage = `INSERT INTO messages (` + messageColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`

	sqlGetConversation = `SELECT ` + conversationColumns + ` FROM conversations WHERE id = ?`

	sqlConversationByCode = `SELECT ` + conversationColumns + ` FROM conversations WHERE code = ?`

	sqlGetMessage = `SELECT ` + messageColumns + ` FROM messages WHERE id = ?`

	sqlUpdateApplied = `UPDATE conversations SET
	modified_at = ?, last_message_at = ?, last_message_id = ?, last_seq = ?, message_count = ?,
	user_read_seq = ?, user_unread = ?, seller_read_seq = ?, seller_unread = ?
WHERE id = ?`

	sqlUpdateStatus = `UPDATE conversations SET status = ?, modified_at = ? WHERE id = ?`

	sqlUpdateRead = `UPDATE conversations SET
	user_read_seq = ?, user_unread = ?, seller_read_seq = ?, seller_unread = ?
WHERE id = ?`

	sqlMessageSeq = `SELECT seq FROM messages WHERE id = ? AND conversation_id = ?`

	sqlCountUnread = `SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND sender_kind = ?`

	sqlInsertEvent = `INSERT INTO events (` + eventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlGetIdempotency = `SELECT fingerprint, conversation_id, message_id FROM idempotency WHERE scope = ? AND key = ?`

	sqlInsertIdempotency = `INSERT INTO idempotency (scope, key, fingerprint, conversation_id, message_id) VALUES (?, ?, ?, ?, ?)`

	sqlListMessages = `SELECT ` + messageColumns + ` FROM messages
WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`

	sqlMessageCount = `SELECT message_count FROM conversations WHERE id = ?`

	// sqlMessagesAfter reads the messages after a position, in one range
	// of messages_conversation_id: after the id ?2 and after the id of the
	// last message at or before the Seq ?3 (found with one seek in
	// messages_seq), whichever is later; ids grow with Seq in a
	// conversation.
	sqlMessagesAfter = `SELECT ` + messageColumns + ` FROM messages
WHERE conversation_id = ?1 AND id > max(?2, ifnull((SELECT id FROM messages
	WHERE conversation_id = ?1 AND seq <= ?3 ORDER BY seq DESC LIMIT 1), 0))
ORDER BY id LIMIT ?4`

	// sqlPartyTotals reads a party's totals (kept by the triggers of
	// migration 3): one seek, whatever the party's size; a party without
	// conversations has no row.
	sqlPartyTotals = `SELECT coalesce(max(conversations), 0), coalesce(max(unread_messages), 0),
	coalesce(max(unread_conversations), 0)
FROM party_totals WHERE channel = ? AND side = ? AND party_id = ?`

	sqlClaimDue = `SELECT ` + eventColumns + ` FROM events
WHERE state = 'pending' AND due_at <= ? AND ` + notLeased + `
ORDER BY due_at, id LIMIT ?`

	sqlClaimDigest = `SELECT ` + eventColumns + ` FROM events
WHERE state = 'pending' AND digest_key = ? AND ` + notLeased

	sqlClaimEvent = `UPDATE events SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?`

	sqlCompleteEvent = `UPDATE events SET state = 'done'
WHERE id = ? AND state = 'pending' AND claimed_by = ?`

	sqlFailEventRetry = `UPDATE events SET last_error = ?, due_at = ?, claimed_by = NULL, lease_until = NULL
WHERE id = ? AND state = 'pending' AND claimed_by = ?`

	sqlFailEventDead = `UPDATE events SET last_error = ?, state = 'dead', claimed_by = NULL, lease_until = NULL
WHERE id = ? AND state = 'pending' AND claimed_by = ?`

	sqlListDeadEvents = `SELECT ` + eventColumns + ` FROM events
WHERE state = 'dead' AND id > ? ORDER BY id LIMIT ?`

	sqlRetryDeadEvent = `UPDATE events SET state = 'pending', due_at = ?, attempts = 0, claimed_by = NULL, lease_until = NULL
WHERE id = ? AND state = 'dead'`

	// The savepoint of each write of a batch (see write).
	sqlSavepoint  = `SAVEPOINT write`
	sqlRelease    = `RELEASE write`
	sqlRollbackTo = `ROLLBACK TO write`
)

// stmts are the prepared statements of a Store.
type stmts struct {
	// writer
	insertConversation, conversationByKey, insertMessage *sql.Stmt
	getConversationW, getMessageW                        *sql.Stmt
	updateApplied, updateStatus, updateRead              *sql.Stmt
	messageSeq, countUnread, insertEvent                 *sql.Stmt
	getIdempotency, insertIdempotency                    *sql.Stmt
	claimDue, claimDigest, claimEvent, completeEvent     *sql.Stmt
	failEventRetry, failEventDead, retryDeadEvent        *sql.Stmt
	savepoint, release, rollbackTo                       *sql.Stmt
	// readers
	getConversation, conversationByCode        *sql.Stmt
	getIdempotencyR, getMessageR               *sql.Stmt
	listMessages, messageCount                 *sql.Stmt
	messagesAfter, partyTotals, listDeadEvents *sql.Stmt

	mod modStmts

	all []*sql.Stmt
}

// stmtSpec is a statement to prepare on db into dst.
type stmtSpec struct {
	db   *sql.DB
	dst  **sql.Stmt
	text string
}

// prepare prepares every statement, the writer's on w and the readers' on r.
func (st *stmts) prepare(ctx context.Context, w, r *sql.DB) error {
	for _, p := range append([]stmtSpec{
		{w, &st.insertConversation, sqlInsertConversation},
		{w, &st.conversationByKey, sqlConversationByKey},
		{w, &st.insertMessage, sqlInsertMessage},
		{w, &st.getConversationW, sqlGetConversation},
		{w, &st.getMessageW, sqlGetMessage},
		{w, &st.updateApplied, sqlUpdateApplied},
		{w, &st.updateStatus, sqlUpdateStatus},
		{w, &st.updateRead, sqlUpdateRead},
		{w, &st.messageSeq, sqlMessageSeq},
		{w, &st.countUnread, sqlCountUnread},
		{w, &st.insertEvent, sqlInsertEvent},
		{w, &st.getIdempotency, sqlGetIdempotency},
		{w, &st.insertIdempotency, sqlInsertIdempotency},
		{w, &st.claimDue, sqlClaimDue},
		{w, &st.claimDigest, sqlClaimDigest},
		{w, &st.claimEvent, sqlClaimEvent},
		{w, &st.completeEvent, sqlCompleteEvent},
		{w, &st.failEventRetry, sqlFailEventRetry},
		{w, &st.failEventDead, sqlFailEventDead},
		{w, &st.retryDeadEvent, sqlRetryDeadEvent},
		{w, &st.savepoint, sqlSavepoint},
		{w, &st.release, sqlRelease},
		{w, &st.rollbackTo, sqlRollbackTo},
		{r, &st.getConversation, sqlGetConversation},
		{r, &st.conversationByCode, sqlConversationByCode},
		{r, &st.getIdempotencyR, sqlGetIdempotency},
		{r, &st.getMessageR, sqlGetMessage},
		{r, &st.listMessages, sqlListMessages},
		{r, &st.messageCount, sqlMessageCount},
		{r, &st.messagesAfter, sqlMessagesAfter},
		{r, &st.partyTotals, sqlPartyTotals},
		{r, &st.listDeadEvents, sqlListDeadEvents},
	}, st.mod.list(w, r)...) {
		s, err := p.db.PrepareContext(ctx, p.text)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", p.text, err)
		}
		*p.dst = s
		st.all = append(st.all, s)
	}
	return nil
}

func (st *stmts) close() error {
	var errs []error
	for _, s := range st.all {
		errs = append(errs, s.Close())
	}
	st.all = nil
	return errors.Join(errs...)
}
