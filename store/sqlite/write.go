package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// wtx is one write's view of the transaction of its batch (see write):
// the single writer connection, holding the database's write lock.
// Statements run through stmt.
type wtx struct {
	ctx context.Context // the write's context
	s   *Store
	b   *batch
}

// stmt returns the writer statement st bound to the transaction.
func (t *wtx) stmt(st *sql.Stmt) txStmt { return txStmt{t: t, st: t.b.stmt(st)} }

// txStmt is a writer statement bound to the transaction of a write's
// batch. Its methods take the write's context but do not hand its
// cancellation to the driver, which would interrupt the statement and so
// roll back the whole batch: a done context fails the call before the
// statement runs, and a statement that has started runs to its end. The
// write is then rolled back to its savepoint.
type txStmt struct {
	t  *wtx
	st *sql.Stmt
}

// context returns the context a statement runs with: ctx if it or the
// write's context is done (the call then fails without running anything),
// the batch's otherwise.
func (s txStmt) context(ctx context.Context) context.Context {
	switch {
	case ctx.Err() != nil:
		return ctx
	case s.t.ctx.Err() != nil:
		return s.t.ctx
	}
	return s.t.b.ctx
}

// ExecContext runs the statement; see txStmt.
func (s txStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.st.ExecContext(s.context(ctx), args...)
}

// QueryContext runs the query; see txStmt.
func (s txStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(s.context(ctx), args...)
}

// QueryRowContext runs the query; see txStmt.
func (s txStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.st.QueryRowContext(s.context(ctx), args...)
}

// at calls the test hook, if any.
func (t *wtx) at(point string) {
	if t.s.hook != nil {
		t.s.hook(t.ctx, point)
	}
}

// checkError carries the error of a callback (Prepare, Check) out of a
// transaction, so that it is returned unchanged.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }

// runCheck runs check, if any, on c.
func runCheck(check func(conversation.Conversation) error, c conversation.Conversation) error {
	if check == nil {
		return nil
	}
	if err := check(c); err != nil {
		return &checkError{err}
	}
	return nil
}

// result translates the error of a write: a Check error comes back
// unchanged, others through fail.
func (s *Store) result(ctx context.Context, op string, err error) error {
	var ce *checkError
	if errors.As(err, &ce) {
		return ce.err
	}
	return s.fail(ctx, op, err)
}

// replay looks up an idempotency record. found reports a replay: the
// record's fingerprint matches and c and m are the conversation's current
// state and the original message. A record with another fingerprint is
// ErrIdempotencyMismatch.
func (t *wtx) replay(p *store.Idempotency) (c conversation.Conversation, m message.Message, found bool, err error) {
	if p == nil {
		return c, m, false, nil
	}
	var (
		fingerprint string
		convID, msg int64
	)
	err = t.stmt(t.s.st.getIdempotency).QueryRowContext(t.ctx, p.Scope, p.Key).Scan(&fingerprint, &convID, &msg)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, m, false, nil
	case err != nil:
		return c, m, false, err
	case fingerprint != p.Fingerprint:
		return c, m, false, fmt.Errorf("sqlite: idempotency key %q: %w", p.Key, store.ErrIdempotencyMismatch)
	}
	if c, err = t.conversation(convID); err != nil {
		return c, m, false, err
	}
	m, err = scanMessage(t.stmt(t.s.st.getMessageW).QueryRowContext(t.ctx, msg))
	if err != nil {
		return c, m, false, err
	}
	return c, m, true, nil
}

// conversation reads the conversation with the given id, or ErrNotFound.
func (t *wtx) conversation(id int64) (conversation.Conversation, error) {
	c, err := scanConversation(t.stmt(t.s.st.getConversationW).QueryRowContext(t.ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlite: conversation %d: %w", id, store.ErrNotFound)
	}
	return c, err
}

// record writes the idempotency record of a write, if it has one.
func (t *wtx) record(p *store.Idempotency, conversationID, messageID int64) error {
	if p == nil {
		return nil
	}
	_, err := t.stmt(t.s.st.insertIdempotency).ExecContext(t.ctx, p.Scope, p.Key, p.Fingerprint, conversationID, messageID)
	return err
}

// events stores the events of a write, pending, with the ids it assigned.
// The caller's events are updated in place with ConversationID and
// MessageID.
func (t *wtx) events(events []notify.Event, conversationID, messageID int64) error {
	if len(events) == 0 {
		return nil
	}
	ins := t.stmt(t.s.st.insertEvent)
	for i := range events {
		e := &events[i]
		e.ConversationID, e.MessageID = conversationID, messageID
		if _, err := ins.ExecContext(t.ctx, eventArgs(e)...); err != nil {
			return err
		}
	}
	return nil
}

// change logs ch (store.ChangeLog) in the write's transaction.
func (t *wtx) change(ch store.ChangeEntry) error {
	_, err := t.stmt(t.s.st.insertChange).ExecContext(t.ctx, string(ch.Kind), ch.Channel, ch.ConversationID,
		ch.UserID, ch.DataSourceID, string(ch.Side), ch.MessageID, ch.Seq, string(ch.Status), micros(ch.At))
	return err
}

// CreateConversation implements store.Store. The events of p are updated in
// place with the ids the store assigned.
func (s *Store) CreateConversation(ctx context.Context, p store.CreateParams) (store.CreateResult, error) {
	var res store.CreateResult
	err := s.write(ctx, func(t *wtx) error {
		c, m, replayed, err := t.replay(p.Idempotency)
		if err != nil || replayed {
			res = store.CreateResult{Conversation: c, Message: m, Replayed: replayed}
			return err
		}
		c, m = p.Conversation, p.Message
		store.ApplyFirst(&c, &m)
		err = t.stmt(s.st.insertConversation).QueryRowContext(ctx, conversationArgs(&c)...).Scan(&c.ID, &c.LastMessageID)
		if driverCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			// The table's unique indexes are the key's and the code's.
			var id int64
			err := t.stmt(s.st.conversationByKey).QueryRowContext(ctx, c.Channel, c.UserID, c.DataSourceID,
				string(c.Type), string(c.Item.Kind), c.Item.ID).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("sqlite: conversation code %s: %w", c.Code, store.ErrDuplicateCode)
			case err != nil:
				return err
			}
			return &store.ConversationExistsError{ID: id}
		}
		if err != nil {
			return err
		}
		t.at("create:conversation")
		m.ID, m.ConversationID = c.LastMessageID, c.ID
		if _, err := t.stmt(s.st.insertMessage).ExecContext(ctx, messageArgs(m.ID, &m)...); err != nil {
			return err
		}
		t.at("create:message")
		if err := t.events(p.Events, c.ID, m.ID); err != nil {
			return err
		}
		if err := t.record(p.Idempotency, c.ID, m.ID); err != nil {
			return err
		}
		if err := t.change(store.ChangeOf(store.ChangeStarted, c, c.StartedBy, m.ID, m.Seq, m.CreatedAt)); err != nil {
			return err
		}
		res = store.CreateResult{Conversation: storedConversation(c), Message: storedMessage(m)}
		return nil
	})
	if err != nil {
		return store.CreateResult{}, s.result(ctx, "create conversation", err)
	}
	return res, nil
}

// AppendMessage implements store.Store. The events of p are updated in
// place with the ids the store assigned.
func (s *Store) AppendMessage(ctx context.Context, p store.AppendParams) (store.AppendResult, error) {
	var res store.AppendResult
	err := s.write(ctx, func(t *wtx) error {
		c, m, replayed, err := t.replay(p.Idempotency)
		if err != nil || replayed {
			res = store.AppendResult{Conversation: c, Message: m, Replayed: replayed}
			return err
		}
		if c, err = t.conversation(p.ConversationID); err != nil {
			return err
		}
		var events []notify.Event
		if p.Prepare != nil {
			if events, err = p.Prepare(c); err != nil {
				return &checkError{err}
			}
		}
		m = p.Message
		store.ApplyMessage(&c, &m)
		r, err := t.stmt(s.st.insertMessage).ExecContext(ctx, messageArgs(nil, &m)...)
		if err != nil {
			return err
		}
		if m.ID, err = r.LastInsertId(); err != nil {
			return err
		}
		c.LastMessageID = m.ID
		t.at("append:message")
		if _, err := t.stmt(s.st.updateApplied).ExecContext(ctx, appliedArgs(&c)...); err != nil {
			return err
		}
		if err := t.events(events, c.ID, m.ID); err != nil {
			return err
		}
		if err := t.record(p.Idempotency, c.ID, m.ID); err != nil {
			return err
		}
		if err := t.change(store.ChangeOf(store.ChangeMessage, c, conversation.Side(m.Sender.Kind), m.ID, m.Seq, m.CreatedAt)); err != nil {
			return err
		}
		res = store.AppendResult{Conversation: storedConversation(c), Message: storedMessage(m)}
		return nil
	})
	if err != nil {
		return store.AppendResult{}, s.result(ctx, "append message", err)
	}
	return res, nil
}

// Replay implements store.Store. It reads the idempotency record, the
// message and the conversation in one read transaction on the read pool.
func (s *Store) Replay(ctx context.Context, k store.Idempotency) (store.CreateResult, bool, error) {
	var res store.CreateResult
	var found bool
	err := s.readTx(ctx, true, func(bind func(*sql.Stmt) *sql.Stmt) error {
		var (
			fingerprint string
			convID, msg int64
		)
		err := bind(s.st.getIdempotencyR).QueryRowContext(ctx, k.Scope, k.Key).Scan(&fingerprint, &convID, &msg)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		case fingerprint != k.Fingerprint:
			return fmt.Errorf("sqlite: idempotency key %q: %w", k.Key, store.ErrIdempotencyMismatch)
		}
		if res.Conversation, err = scanConversation(bind(s.st.getConversation).QueryRowContext(ctx, convID)); err != nil {
			return err
		}
		if res.Message, err = scanMessage(bind(s.st.getMessageR).QueryRowContext(ctx, msg)); err != nil {
			return err
		}
		res.Replayed, found = true, true
		return nil
	})
	if err != nil {
		return store.CreateResult{}, false, s.fail(ctx, "replay", err)
	}
	return res, found, nil
}

// SetStatus implements store.Store.
func (s *Store) SetStatus(ctx context.Context, p store.StatusParams) (conversation.Conversation, error) {
	var c conversation.Conversation
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if c, err = t.conversation(p.ConversationID); err != nil {
			return err
		}
		if err := runCheck(p.Check, c); err != nil {
			return err
		}
		was := c.Status
		store.ApplyStatus(&c, p.Status, stored(p.At))
		if _, err = t.stmt(s.st.updateStatus).ExecContext(ctx, string(c.Status), micros(c.ModifiedAt), c.ID); err != nil {
			return err
		}
		if c.Status == was {
			return nil
		}
		return t.change(store.ChangeOf(store.ChangeStatus, c, p.Side, 0, 0, p.At))
	})
	if err != nil {
		return conversation.Conversation{}, s.result(ctx, "set status", err)
	}
	return c, nil
}

// MarkRead implements store.Store.
func (s *Store) MarkRead(ctx context.Context, p store.ReadParams) (conversation.Conversation, error) {
	if !p.Side.Valid() {
		return conversation.Conversation{}, fmt.Errorf("sqlite: mark read: unknown side %q", p.Side)
	}
	var c conversation.Conversation
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if c, err = t.conversation(p.ConversationID); err != nil {
			return err
		}
		if err := runCheck(p.Check, c); err != nil {
			return err
		}
		var seq int64
		err = t.stmt(s.st.messageSeq).QueryRowContext(ctx, p.UpToMessageID, c.ID).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: message %d in conversation %d: %w", p.UpToMessageID, c.ID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if seq <= c.Read(p.Side).ReadSeq {
			return nil
		}
		var after int64
		if err := t.stmt(s.st.countUnread).QueryRowContext(ctx, c.ID, seq, string(p.Side.Other())).Scan(&after); err != nil {
			return err
		}
		store.ApplyRead(&c, p.Side, seq, after)
		if _, err = t.stmt(s.st.updateRead).ExecContext(ctx,
			c.UserRead.ReadSeq, c.UserRead.Unread, c.SellerRead.ReadSeq, c.SellerRead.Unread, c.ID); err != nil {
			return err
		}
		return t.change(store.ChangeOf(store.ChangeRead, c, p.Side, p.UpToMessageID, seq, p.At))
	})
	if err != nil {
		return conversation.Conversation{}, s.result(ctx, "mark read", err)
	}
	return c, nil
}
