package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/store"
)

var _ store.Privacy = (*Store)(nil)

// eraseQueries are the statements of store.Privacy, with the schema
// written in. Their parameters are $1 the channel, $2 the party's kind
// ('user' or 'datasource', which is also its side) and $3 its id.
type eraseQueries struct {
	// fingerprints scrubs the idempotency records, and eventErrors the
	// notifier's errors on the outbox events, of the messages about to be
	// erased (both run before messages).
	fingerprints, eventErrors, messages, conversations, notes string
}

func newEraseQueries(s string) eraseQueries {
	party := `SELECT id FROM ` + s + `.conversations WHERE channel = $1::text AND $2::text = 'user' AND user_id = $3::text
	UNION ALL SELECT id FROM ` + s + `.conversations WHERE channel = $1::text AND $2::text = 'datasource' AND datasource_id = $3::text`
	return eraseQueries{
		fingerprints: `UPDATE ` + s + `.idempotency SET fingerprint = 'erased'
WHERE fingerprint <> 'erased' AND message_id IN (
	SELECT id FROM ` + s + `.messages WHERE conversation_id IN (` + party + `)
	AND sender_kind = $2::text AND sender_id = $3::text AND content <> '')`,
		eventErrors: `UPDATE ` + s + `.events SET last_error = ''
WHERE last_error <> '' AND message_id IN (
	SELECT id FROM ` + s + `.messages WHERE conversation_id IN (` + party + `)
	AND sender_kind = $2::text AND sender_id = $3::text AND content <> '')`,
		messages: `UPDATE ` + s + `.messages SET content = ''
WHERE conversation_id IN (` + party + `) AND sender_kind = $2::text AND sender_id = $3::text AND content <> ''`,
		conversations: `UPDATE ` + s + `.conversations SET
	subject         = CASE WHEN started_by = $2::text THEN '' ELSE subject END,
	user_first_name = CASE WHEN $2::text = 'user' THEN '' ELSE user_first_name END,
	user_last_name  = CASE WHEN $2::text = 'user' THEN '' ELSE user_last_name END,
	order_number    = CASE WHEN $2::text = 'user' THEN '' ELSE order_number END
WHERE id IN (` + party + `)
	AND ((started_by = $2::text AND subject <> '') OR ($2::text = 'user' AND (user_first_name <> '' OR user_last_name <> '' OR order_number <> '')))
RETURNING id`,
		notes: `UPDATE ` + s + `.reports SET note = '' WHERE channel = $1::text AND reporter_kind = $2::text AND reporter_id = $3::text AND note <> ''`,
	}
}

// EraseParty implements store.Privacy in one transaction.
func (s *Store) EraseParty(ctx context.Context, p store.EraseParams) (store.EraseResult, error) {
	var res store.EraseResult
	q := s.q.erase
	err := s.do(ctx, "erase party", func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			res = store.EraseResult{}
			tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
			args := []any{p.Channel, string(p.Party.Kind), p.Party.ID}
			for _, sql := range []string{q.fingerprints, q.eventErrors} {
				if _, err := tx.Exec(ctx, sql, args...); err != nil {
					return err
				}
			}
			tag, err := tx.Exec(ctx, q.messages, args...)
			if err != nil {
				return err
			}
			res.Messages = tag.RowsAffected()
			rows, err := tx.Query(ctx, q.conversations, args...)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			res.Conversations = int64(len(ids))
			if tag, err = tx.Exec(ctx, q.notes, args...); err != nil {
				return err
			}
			res.Reports = tag.RowsAffected()
			if _, err := tx.Exec(ctx, auditInsert(s.q.schema, 1, ""), auditArgs(p.Audit)...); err != nil {
				return err
			}
			if err := tx.Commit(ctx); err != nil {
				return err
			}
			for _, id := range ids {
				s.convs.drop(id)
			}
			return nil
		})
	})
	return res, err
}
