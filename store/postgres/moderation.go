package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

var _ store.Moderation = (*Store)(nil)

// The columns of a report and an audit entry, in the order reportScan and
// entryScan read them.
const (
	reportColumns = `id, channel, conversation_id, message_id, reporter_kind, reporter_id, reporter_user_type,
	reason, note, state, created_at, resolved_at, resolved_by, outcome, resolution_note`

	entryColumns = `id, channel, staff, action, conversation_id, message_id, report_id,
	subject_kind, subject_id, subject_user_type, reason, at`
)

// modQueries are the statements of store.Moderation, with the schema
// written in.
type modQueries struct {
	// createReport inserts a report unless its reporter reported the
	// message before, and returns (created, the report's columns): the
	// new report, or the first one. It returns no row when the first one
	// was being inserted by a transaction that committed after the
	// statement began (its row is not in the statement's snapshot): the
	// operation runs again.
	createReport string
	getReport    string
	// resolveReport resolves an open report and inserts its audit entry
	// ($6...) in one statement; no row: the report is unknown or resolved.
	resolveReport string
	listReports   string
	countReports  string
	listAudit     string

	// listVisibleMessages and visibleTotal are the message page and
	// total without the hidden messages.
	listVisibleMessages string
	visibleTotal        string
	// lockConversation locks a conversation's row: hiding a message
	// holds it, so that the count of hidden messages is one writer's at
	// a time.
	lockConversation string
	messageHidden    string
	hideMessage      string
	// hideConversation sets $2 as the conversation's hidden flag and
	// adds $3 to its hidden messages, returning its columns.
	hideConversation string
}

func newModQueries(s string) modQueries {
	var q modQueries
	q.createReport = `WITH ins AS (
	INSERT INTO ` + s + `.reports (channel, conversation_id, message_id, reporter_kind, reporter_id, reporter_user_type,
		reason, note, state, created_at, resolved_at, resolved_by, outcome, resolution_note)
	VALUES ($1::text, $2::bigint, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::timestamptz, NULL, '', '', '')
	ON CONFLICT (message_id, reporter_kind, reporter_id) DO NOTHING
	RETURNING ` + reportColumns + `
)
SELECT true, ` + reportColumns + ` FROM ins
UNION ALL
SELECT false, ` + reportColumns + ` FROM ` + s + `.reports
WHERE message_id = $3 AND reporter_kind = $4 AND reporter_id = $5 AND NOT EXISTS (SELECT FROM ins)`
	q.getReport = `SELECT ` + reportColumns + ` FROM ` + s + `.reports WHERE id = $1`
	q.resolveReport = `WITH r AS (
	UPDATE ` + s + `.reports SET state = 'resolved', resolved_at = $2, resolved_by = $3, outcome = $4, resolution_note = $5
	WHERE id = $1 AND state = 'open'
	RETURNING ` + reportColumns + `
), a AS (
	` + auditInsert(s, 6, "r") + `
)
SELECT ` + reportColumns + ` FROM r`
	filter := ` WHERE channel = $1 AND ($2::text = '' OR state = $2) AND ($3::text = '' OR reason = $3)`
	q.listReports = `SELECT ` + reportColumns + ` FROM ` + s + `.reports` + filter + ` AND id > $4 ORDER BY id LIMIT $5`
	q.countReports = `SELECT count(*) FROM ` + s + `.reports` + filter
	q.listAudit = `SELECT ` + entryColumns + ` FROM ` + s + `.audit
WHERE channel = $1 AND ($2::bigint = 0 OR conversation_id = $2) AND id > $3 ORDER BY id LIMIT $4`
	q.listVisibleMessages = `SELECT ` + list(messageColumns, "") + ` FROM ` + s + `.messages
WHERE conversation_id = $1 AND seq < $2 AND NOT hidden ORDER BY seq DESC LIMIT $3`
	q.visibleTotal = `SELECT coalesce((SELECT message_count - hidden_messages FROM ` + s + `.conversations WHERE id = $1), 0)`
	q.lockConversation = `SELECT hidden FROM ` + s + `.conversations WHERE id = $1 FOR UPDATE`
	q.messageHidden = `SELECT hidden FROM ` + s + `.messages WHERE id = $1 AND conversation_id = $2`
	q.hideMessage = `UPDATE ` + s + `.messages SET hidden = $2 WHERE id = $1`
	q.hideConversation = `UPDATE ` + s + `.conversations SET hidden = $2, hidden_messages = hidden_messages + $3
WHERE id = $1 RETURNING ` + list(convColumns, "")
	return q
}

// auditInsert is an INSERT of one audit entry from parameters $n to
// $n+10 (auditArgs), for each row of from ("" for exactly one).
func auditInsert(s string, n int, from string) string {
	p := func(i int, typ string) string { return fmt.Sprintf("$%d::%s", n+i, typ) }
	sql := `INSERT INTO ` + s + `.audit (channel, staff, action, conversation_id, message_id, report_id,
		subject_kind, subject_id, subject_user_type, reason, at)
	SELECT ` + p(0, "text") + `, ` + p(1, "text") + `, ` + p(2, "text") + `, ` + p(3, "bigint") + `, ` + p(4, "bigint") + `, ` + p(5, "bigint") + `,
		` + p(6, "text") + `, ` + p(7, "text") + `, ` + p(8, "text") + `, ` + p(9, "text") + `, ` + p(10, "timestamptz")
	if from != "" {
		sql += ` FROM ` + from
	}
	return sql
}

// auditArgs are the parameters of auditInsert.
func auditArgs(e moderation.Entry) []any {
	return []any{e.Channel, e.Staff, string(e.Action), e.ConversationID, e.MessageID, e.ReportID,
		string(e.Subject.Kind), e.Subject.ID, string(e.Subject.UserType), e.Reason, dbTime(e.At)}
}

// reportScan holds the scan targets of the reportColumns.
type reportScan struct {
	r                                   moderation.Report
	kind, uType, reason, state, outcome string
	created                             time.Time
	resolved                            *time.Time
}

func (rs *reportScan) dest() []any {
	r := &rs.r
	return []any{&r.ID, &r.Channel, &r.ConversationID, &r.MessageID, &rs.kind, &r.Reporter.ID, &rs.uType,
		&rs.reason, &r.Note, &rs.state, &rs.created, &rs.resolved, &r.ResolvedBy, &rs.outcome, &r.ResolutionNote}
}

func (rs *reportScan) result() moderation.Report {
	r := rs.r
	r.Reporter.Kind, r.Reporter.UserType = message.SenderKind(rs.kind), message.UserType(rs.uType)
	r.Reason, r.State, r.Outcome = moderation.Reason(rs.reason), moderation.State(rs.state), moderation.Outcome(rs.outcome)
	r.CreatedAt = rs.created.UTC()
	if rs.resolved != nil {
		r.ResolvedAt = rs.resolved.UTC()
	}
	return r
}

// CreateReport implements store.Moderation in one statement.
func (s *Store) CreateReport(ctx context.Context, r moderation.Report) (moderation.Report, bool, error) {
	var (
		res     moderation.Report
		created bool
	)
	err := s.do(ctx, "create report", func(ctx context.Context) error {
		var rs reportScan
		err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			return conn.QueryRow(ctx, s.q.mod.createReport, r.Channel, r.ConversationID, r.MessageID,
				string(r.Reporter.Kind), r.Reporter.ID, string(r.Reporter.UserType), string(r.Reason), r.Note,
				string(r.State), dbTime(r.CreatedAt)).Scan(append([]any{&created}, rs.dest()...)...)
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: report of message %d by %s %s", errRaced, r.MessageID, r.Reporter.Kind, r.Reporter.ID)
		}
		res = rs.result()
		return err
	})
	if err != nil {
		return moderation.Report{}, false, err
	}
	return res, created, nil
}

// GetReport implements store.Moderation.
func (s *Store) GetReport(ctx context.Context, id int64) (moderation.Report, error) {
	var res moderation.Report
	err := s.do(ctx, "get report", func(ctx context.Context) error {
		var rs reportScan
		err := s.pool.QueryRow(ctx, s.q.mod.getReport, id).Scan(rs.dest()...)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("report %d", id)
		}
		res = rs.result()
		return err
	})
	return res, err
}

// ListReports implements store.Moderation: the page and, with WithTotal,
// the count in one round trip.
func (s *Store) ListReports(ctx context.Context, q store.ReportQuery) (store.Page[moderation.Report], error) {
	page := store.Page[moderation.Report]{Total: -1}
	if q.Limit < 1 {
		return page, errLimit(q.Limit)
	}
	err := s.do(ctx, "list reports", func(ctx context.Context) error {
		page = store.Page[moderation.Report]{Total: -1}
		b := &pgx.Batch{}
		b.Queue(s.q.mod.listReports, q.Channel, string(q.State), string(q.Reason), q.AfterID, q.Limit+1)
		if q.WithTotal {
			b.Queue(s.q.mod.countReports, q.Channel, string(q.State), string(q.Reason))
		}
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var rs reportScan
		_, err = pgx.ForEachRow(rows, rs.dest(), func() error {
			page.Items = append(page.Items, rs.result())
			return nil
		})
		if err != nil {
			return err
		}
		if q.WithTotal {
			if err := br.QueryRow().Scan(&page.Total); err != nil {
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return store.Page[moderation.Report]{}, err
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// ResolveReport implements store.Moderation: the resolution and its audit
// entry in one statement.
func (s *Store) ResolveReport(ctx context.Context, p store.ResolveParams) (moderation.Report, error) {
	var res moderation.Report
	err := s.do(ctx, "resolve report", func(ctx context.Context) error {
		var rs reportScan
		args := append([]any{p.ID, dbTime(p.At), p.By, string(p.Outcome), p.Note}, auditArgs(p.Audit)...)
		err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			return conn.QueryRow(ctx, s.q.mod.resolveReport, args...).Scan(rs.dest()...)
		})
		if errors.Is(err, pgx.ErrNoRows) {
			var found reportScan
			err := s.pool.QueryRow(ctx, s.q.mod.getReport, p.ID).Scan(found.dest()...)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("report %d", p.ID)
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("report %d: %w", p.ID, store.ErrReportResolved)
		}
		res = rs.result()
		return err
	})
	return res, err
}

// ListAudit implements store.Moderation.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) (store.Page[moderation.Entry], error) {
	page := store.Page[moderation.Entry]{Total: -1}
	if q.Limit < 1 {
		return page, errLimit(q.Limit)
	}
	err := s.do(ctx, "list audit", func(ctx context.Context) error {
		page.Items = nil
		rows, err := s.pool.Query(ctx, s.q.mod.listAudit, q.Channel, q.ConversationID, q.AfterID, q.Limit+1)
		if err != nil {
			return err
		}
		var (
			e                   moderation.Entry
			action, kind, uType string
			at                  time.Time
		)
		_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Channel, &e.Staff, &action, &e.ConversationID, &e.MessageID, &e.ReportID,
			&kind, &e.Subject.ID, &uType, &e.Reason, &at}, func() error {
			x := e
			x.Action, x.Subject.Kind, x.Subject.UserType = moderation.Action(action), message.SenderKind(kind), message.UserType(uType)
			x.At = at.UTC()
			page.Items = append(page.Items, x)
			return nil
		})
		return err
	})
	if err != nil {
		return store.Page[moderation.Entry]{}, err
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// SetHidden implements store.Moderation in one transaction that holds the
// conversation's row lock: the count of hidden messages changes with the
// flag of one message at a time.
func (s *Store) SetHidden(ctx context.Context, p store.HideParams) (conversation.Conversation, error) {
	var res conversation.Conversation
	err := s.do(ctx, "set hidden", func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
			var hidden bool
			err = tx.QueryRow(ctx, s.q.mod.lockConversation, p.ConversationID).Scan(&hidden)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("conversation %d", p.ConversationID)
			}
			if err != nil {
				return err
			}
			var delta int64
			if p.MessageID != 0 {
				var was bool
				err := tx.QueryRow(ctx, s.q.mod.messageHidden, p.MessageID, p.ConversationID).Scan(&was)
				if errors.Is(err, pgx.ErrNoRows) {
					return notFound("message %d in conversation %d", p.MessageID, p.ConversationID)
				}
				if err != nil {
					return err
				}
				if was != p.Hidden {
					if _, err := tx.Exec(ctx, s.q.mod.hideMessage, p.MessageID, p.Hidden); err != nil {
						return err
					}
					delta = 1
					if !p.Hidden {
						delta = -1
					}
				}
			} else {
				hidden = p.Hidden
			}
			cs := newConvScan()
			if err := tx.QueryRow(ctx, s.q.mod.hideConversation, p.ConversationID, hidden, delta).Scan(cs.dest[:]...); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, auditInsert(s.q.schema, 1, ""), auditArgs(p.Audit)...); err != nil {
				return err
			}
			res = cs.result()
			return tx.Commit(ctx)
		})
	})
	return res, err
}
