package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

var _ store.Moderation = (*Store)(nil)

// The columns of a report and an audit entry, in the order scanReport and
// scanEntry read them.
const (
	reportColumns = `id, channel, conversation_id, message_id, reporter_kind, reporter_id, reporter_user_type,
	reason, note, state, created_at, resolved_at, resolved_by, outcome, resolution_note`

	entryColumns = `id, channel, staff, action, conversation_id, message_id, report_id,
	subject_kind, subject_id, subject_user_type, reason, at`
)

// The statements of store.Moderation.
var (
	// sqlInsertReport stores a report unless its reporter reported the
	// message before (reports_reporter): then it returns no row.
	sqlInsertReport = `INSERT INTO reports (channel, conversation_id, message_id, reporter_kind, reporter_id, reporter_user_type,
	reason, note, state, created_at, resolved_at, resolved_by, outcome, resolution_note)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '', '')
ON CONFLICT (message_id, reporter_kind, reporter_id) DO NOTHING RETURNING id`

	sqlReportByReporter = `SELECT ` + reportColumns + ` FROM reports WHERE message_id = ? AND reporter_kind = ? AND reporter_id = ?`

	sqlGetReport = `SELECT ` + reportColumns + ` FROM reports WHERE id = ?`

	sqlResolveReport = `UPDATE reports SET state = 'resolved', resolved_at = ?, resolved_by = ?, outcome = ?, resolution_note = ?
WHERE id = ? AND state = 'open' RETURNING ` + reportColumns

	sqlInsertEntry = `INSERT INTO audit (channel, staff, action, conversation_id, message_id, report_id,
	subject_kind, subject_id, subject_user_type, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// The queue reads reports_queue in order when a state is given, and
	// the rowid order of the channel's reports otherwise.
	sqlListReports = `SELECT ` + reportColumns + ` FROM reports
WHERE channel = ?1 AND (?2 = '' OR state = ?2) AND (?3 = '' OR reason = ?3) AND id > ?4
ORDER BY id LIMIT ?5`

	sqlCountReports = `SELECT count(*) FROM reports
WHERE channel = ?1 AND (?2 = '' OR state = ?2) AND (?3 = '' OR reason = ?3)`

	// A message page without the hidden messages: the same walk of
	// messages_seq, skipping them.
	sqlListVisibleMessages = `SELECT ` + messageColumns + ` FROM messages
WHERE conversation_id = ? AND seq < ? AND hidden = 0 ORDER BY seq DESC LIMIT ?`

	sqlVisibleCount = `SELECT message_count - hidden_messages FROM conversations WHERE id = ?`

	sqlHideConversation = `UPDATE conversations SET hidden = ? WHERE id = ?`

	// sqlMessageHidden reads a message's hidden flag (a message of
	// another conversation is no row); the write holds the write lock.
	sqlMessageHidden = `SELECT hidden FROM messages WHERE id = ? AND conversation_id = ?`

	sqlHideMessage = `UPDATE messages SET hidden = ? WHERE id = ?`

	sqlAddHiddenMessages = `UPDATE conversations SET hidden_messages = hidden_messages + ? WHERE id = ?`

	sqlListAudit = `SELECT ` + entryColumns + ` FROM audit
WHERE channel = ?1 AND (?2 = 0 OR conversation_id = ?2) AND id > ?3
ORDER BY id LIMIT ?4`
)

// modStmts are the prepared statements of store.Moderation.
type modStmts struct {
	insertReport, reportByReporter, getReportW, resolveReport, insertEntry *sql.Stmt
	getReport, listReports, countReports, listAudit                        *sql.Stmt
	hideConversation, hideMessage, addHiddenMessages, messageHidden        *sql.Stmt
	listVisibleMessages, visibleCount                                      *sql.Stmt
	eraseFingerprints, eraseEventErrors, eraseMessages                     *sql.Stmt // store.Privacy
	eraseConversations, eraseNotes                                         *sql.Stmt
}

// list returns the statements to prepare, the writer's on w and the
// readers' on r (see stmts.prepare).
func (st *modStmts) list(w, r *sql.DB) []stmtSpec {
	return []stmtSpec{
		{w, &st.insertReport, sqlInsertReport},
		{w, &st.reportByReporter, sqlReportByReporter},
		{w, &st.getReportW, sqlGetReport},
		{w, &st.resolveReport, sqlResolveReport},
		{w, &st.insertEntry, sqlInsertEntry},
		{w, &st.hideConversation, sqlHideConversation},
		{w, &st.hideMessage, sqlHideMessage},
		{w, &st.messageHidden, sqlMessageHidden},
		{w, &st.addHiddenMessages, sqlAddHiddenMessages},
		{r, &st.listVisibleMessages, sqlListVisibleMessages},
		{r, &st.visibleCount, sqlVisibleCount},
		{r, &st.getReport, sqlGetReport},
		{r, &st.listReports, sqlListReports},
		{r, &st.countReports, sqlCountReports},
		{r, &st.listAudit, sqlListAudit},
		{w, &st.eraseFingerprints, sqlEraseFingerprints},
		{w, &st.eraseEventErrors, sqlEraseEventErrors},
		{w, &st.eraseMessages, sqlEraseMessages},
		{w, &st.eraseConversations, sqlEraseConversations},
		{w, &st.eraseNotes, sqlEraseNotes},
	}
}

// scanReport reads one row of the reportColumns.
func scanReport(sc scanner) (moderation.Report, error) {
	var (
		r                                   moderation.Report
		kind, uType, reason, state, outcome string
		created                             int64
		resolved                            sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.Channel, &r.ConversationID, &r.MessageID, &kind, &r.Reporter.ID, &uType,
		&reason, &r.Note, &state, &created, &resolved, &r.ResolvedBy, &outcome, &r.ResolutionNote); err != nil {
		return moderation.Report{}, err
	}
	r.Reporter.Kind, r.Reporter.UserType = message.SenderKind(kind), message.UserType(uType)
	r.Reason, r.State, r.Outcome = moderation.Reason(reason), moderation.State(state), moderation.Outcome(outcome)
	r.CreatedAt = fromMicros(created)
	if resolved.Valid {
		r.ResolvedAt = fromMicros(resolved.Int64)
	}
	return r, nil
}

// scanEntry reads one row of the entryColumns.
func scanEntry(sc scanner) (moderation.Entry, error) {
	var (
		e                   moderation.Entry
		action, kind, uType string
		at                  int64
	)
	if err := sc.Scan(&e.ID, &e.Channel, &e.Staff, &action, &e.ConversationID, &e.MessageID, &e.ReportID,
		&kind, &e.Subject.ID, &uType, &e.Reason, &at); err != nil {
		return moderation.Entry{}, err
	}
	e.Action, e.Subject.Kind, e.Subject.UserType = moderation.Action(action), message.SenderKind(kind), message.UserType(uType)
	e.At = fromMicros(at)
	return e, nil
}

// insertEntry appends e to the audit trail in the write t.
func (t *wtx) insertEntry(e moderation.Entry) error {
	_, err := t.stmt(t.s.st.mod.insertEntry).ExecContext(t.ctx, e.Channel, e.Staff, string(e.Action), e.ConversationID, e.MessageID, e.ReportID,
		string(e.Subject.Kind), e.Subject.ID, string(e.Subject.UserType), e.Reason, micros(e.At))
	return err
}

// CreateReport implements store.Moderation.
func (s *Store) CreateReport(ctx context.Context, r moderation.Report) (moderation.Report, bool, error) {
	r.CreatedAt = stored(r.CreatedAt)
	created := false
	err := s.write(ctx, func(t *wtx) error {
		err := t.stmt(s.st.mod.insertReport).QueryRowContext(ctx, r.Channel, r.ConversationID, r.MessageID,
			string(r.Reporter.Kind), r.Reporter.ID, string(r.Reporter.UserType),
			string(r.Reason), r.Note, string(r.State), micros(r.CreatedAt)).Scan(&r.ID)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r, err = scanReport(t.stmt(s.st.mod.reportByReporter).QueryRowContext(ctx, r.MessageID, string(r.Reporter.Kind), r.Reporter.ID))
		return err
	})
	if err != nil {
		return moderation.Report{}, false, s.fail(ctx, "create report", err)
	}
	return r, created, nil
}

// GetReport implements store.Moderation.
func (s *Store) GetReport(ctx context.Context, id int64) (moderation.Report, error) {
	if err := s.check(ctx); err != nil {
		return moderation.Report{}, err
	}
	r, err := scanReport(s.st.mod.getReport.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return moderation.Report{}, fmt.Errorf("sqlite: report %d: %w", id, store.ErrNotFound)
	}
	return r, s.fail(ctx, "get report", err)
}

// ListReports implements store.Moderation.
func (s *Store) ListReports(ctx context.Context, q store.ReportQuery) (store.Page[moderation.Report], error) {
	page := store.Page[moderation.Report]{Total: -1}
	n, err := pageSize(q.Limit)
	if err != nil {
		return page, err
	}
	err = s.readTx(ctx, q.WithTotal, func(bind func(*sql.Stmt) *sql.Stmt) error {
		rows, err := bind(s.st.mod.listReports).QueryContext(ctx, q.Channel, string(q.State), string(q.Reason), q.AfterID, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanReport(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !q.WithTotal {
			return nil
		}
		return bind(s.st.mod.countReports).QueryRowContext(ctx, q.Channel, string(q.State), string(q.Reason)).Scan(&page.Total)
	})
	if err != nil {
		return store.Page[moderation.Report]{}, s.fail(ctx, "list reports", err)
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// ResolveReport implements store.Moderation.
func (s *Store) ResolveReport(ctx context.Context, p store.ResolveParams) (moderation.Report, error) {
	var r moderation.Report
	err := s.write(ctx, func(t *wtx) error {
		var err error
		r, err = scanReport(t.stmt(s.st.mod.resolveReport).QueryRowContext(ctx, micros(p.At), p.By, string(p.Outcome), p.Note, p.ID))
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := scanReport(t.stmt(s.st.mod.getReportW).QueryRowContext(ctx, p.ID)); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: report %d: %w", p.ID, store.ErrNotFound)
			} else if err != nil {
				return err
			}
			return fmt.Errorf("sqlite: report %d: %w", p.ID, store.ErrReportResolved)
		}
		if err != nil {
			return err
		}
		return t.insertEntry(p.Audit)
	})
	if err != nil {
		return moderation.Report{}, s.fail(ctx, "resolve report", err)
	}
	return r, nil
}

// ListAudit implements store.Moderation.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) (store.Page[moderation.Entry], error) {
	page := store.Page[moderation.Entry]{Total: -1}
	n, err := pageSize(q.Limit)
	if err != nil {
		return page, err
	}
	err = s.readTx(ctx, false, func(bind func(*sql.Stmt) *sql.Stmt) error {
		rows, err := bind(s.st.mod.listAudit).QueryContext(ctx, q.Channel, q.ConversationID, q.AfterID, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, e)
		}
		return rows.Err()
	})
	if err != nil {
		return store.Page[moderation.Entry]{}, s.fail(ctx, "list audit", err)
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// SetHidden implements store.Moderation.
func (s *Store) SetHidden(ctx context.Context, p store.HideParams) (conversation.Conversation, error) {
	var c conversation.Conversation
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if c, err = t.conversation(p.ConversationID); err != nil {
			return err
		}
		if p.MessageID == 0 {
			if _, err := t.stmt(s.st.mod.hideConversation).ExecContext(ctx, p.Hidden, c.ID); err != nil {
				return err
			}
			c.Hidden = p.Hidden
			return t.insertEntry(p.Audit)
		}
		var was bool
		err = t.stmt(s.st.mod.messageHidden).QueryRowContext(ctx, p.MessageID, c.ID).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: message %d in conversation %d: %w", p.MessageID, c.ID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if was != p.Hidden {
			if _, err := t.stmt(s.st.mod.hideMessage).ExecContext(ctx, p.Hidden, p.MessageID); err != nil {
				return err
			}
			d := int64(1)
			if !p.Hidden {
				d = -1
			}
			if _, err := t.stmt(s.st.mod.addHiddenMessages).ExecContext(ctx, d, c.ID); err != nil {
				return err
			}
			c.HiddenMessages += d
		}
		return t.insertEntry(p.Audit)
	})
	if err != nil {
		return conversation.Conversation{}, s.fail(ctx, "set hidden", err)
	}
	return c, nil
}
