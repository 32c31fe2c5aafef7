package sqlite

import (
	"context"
	"database/sql"

	"github.com/parleyhq/parley/store"
)

var _ store.Privacy = (*Store)(nil)

// The statements of store.Privacy. Their parameters are ?1 the channel,
// ?2 the party's kind ('user' or 'datasource', which is also its side)
// and ?3 its id. sqlPartyConversations selects the ids of the party's
// conversations, over conversations_user or conversations_seller.
const sqlPartyConversations = `SELECT id FROM conversations WHERE channel = ?1 AND ?2 = 'user' AND user_id = ?3
	UNION ALL SELECT id FROM conversations WHERE channel = ?1 AND ?2 = 'datasource' AND datasource_id = ?3`

var (
	// sqlEraseFingerprints scrubs the idempotency records of the messages
	// about to be erased (run before sqlEraseMessages).
	sqlEraseFingerprints = `UPDATE idempotency SET fingerprint = 'erased'
WHERE fingerprint <> 'erased' AND message_id IN (
	SELECT id FROM messages WHERE conversation_id IN (` + sqlPartyConversations + `)
	AND sender_kind = ?2 AND sender_id = ?3 AND content <> '')`

	// sqlEraseEventErrors clears the notifier's errors on the events of
	// the messages about to be erased (run before sqlEraseMessages).
	sqlEraseEventErrors = `UPDATE events SET last_error = ''
WHERE last_error <> '' AND message_id IN (
	SELECT id FROM messages WHERE conversation_id IN (` + sqlPartyConversations + `)
	AND sender_kind = ?2 AND sender_id = ?3 AND content <> '')`

	sqlEraseMessages = `UPDATE messages SET content = ''
WHERE conversation_id IN (` + sqlPartyConversations + `) AND sender_kind = ?2 AND sender_id = ?3 AND content <> ''`

	sqlEraseConversations = `UPDATE conversations SET
	subject         = CASE WHEN started_by = ?2 THEN '' ELSE subject END,
	user_first_name = CASE WHEN ?2 = 'user' THEN '' ELSE user_first_name END,
	user_last_name  = CASE WHEN ?2 = 'user' THEN '' ELSE user_last_name END,
	order_number    = CASE WHEN ?2 = 'user' THEN '' ELSE order_number END
WHERE id IN (` + sqlPartyConversations + `)
	AND ((started_by = ?2 AND subject <> '') OR (?2 = 'user' AND (user_first_name <> '' OR user_last_name <> '' OR order_number <> '')))`

	sqlEraseNotes = `UPDATE reports SET note = '' WHERE channel = ?1 AND reporter_kind = ?2 AND reporter_id = ?3 AND note <> ''`
)

// EraseParty implements store.Privacy in one write transaction.
func (s *Store) EraseParty(ctx context.Context, p store.EraseParams) (store.EraseResult, error) {
	var res store.EraseResult
	err := s.write(ctx, func(t *wtx) error {
		res = store.EraseResult{}
		args := []any{p.Channel, string(p.Party.Kind), p.Party.ID}
		for _, st := range []*sql.Stmt{s.st.mod.eraseFingerprints, s.st.mod.eraseEventErrors} {
			if _, err := t.stmt(st).ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		for _, x := range []struct {
			st **sql.Stmt
			n  *int64
		}{{&s.st.mod.eraseMessages, &res.Messages}, {&s.st.mod.eraseConversations, &res.Conversations}, {&s.st.mod.eraseNotes, &res.Reports}} {
			r, err := t.stmt(*x.st).ExecContext(ctx, args...)
			if err != nil {
				return err
			}
			if *x.n, err = r.RowsAffected(); err != nil {
				return err
			}
		}
		return t.insertEntry(p.Audit)
	})
	return res, err
}
