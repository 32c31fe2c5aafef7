package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// idemArgs returns the scope, key and fingerprint parameters of an
// idempotency record; NULLs when the write is not idempotent.
func idemArgs(p *store.Idempotency) (scope, key, fingerprint any) {
	if p == nil {
		return nil, nil, nil
	}
	return p.Scope, p.Key, p.Fingerprint
}

// idemRecord is a stored idempotency record.
type idemRecord struct {
	found          bool
	fingerprint    string
	conversationID int64
	messageID      int64
}

// replay returns the result recorded for an idempotency key: the current
// conversation and the original message, or ErrIdempotencyMismatch if the
// request differs.
func (s *Store) replay(ctx context.Context, p *store.Idempotency, rec idemRecord) (conversation.Conversation, message.Message, error) {
	if rec.fingerprint != p.Fingerprint {
		return conversation.Conversation{}, message.Message{}, store.ErrIdempotencyMismatch
	}
	b := &pgx.Batch{}
	b.Queue(s.q.getConversation, rec.conversationID)
	b.Queue(s.q.getMessage, rec.messageID)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	cs, ms := newConvScan(), newMessageScan()
	if err := br.QueryRow().Scan(cs.dest[:]...); err != nil {
		return conversation.Conversation{}, message.Message{}, fmt.Errorf("replay: conversation %d: %w", rec.conversationID, err)
	}
	if err := br.QueryRow().Scan(ms.dest[:]...); err != nil {
		return conversation.Conversation{}, message.Message{}, fmt.Errorf("replay: message %d: %w", rec.messageID, err)
	}
	return cs.result(), ms.result(), br.Close()
}

// CreateConversation stores a conversation and its first message, the
// events and the idempotency record in one statement (one round trip). A
// taken conversation key fails the statement with a unique violation; a
// second query then finds the existing conversation's id for the
// *store.ConversationExistsError.
func (s *Store) CreateConversation(ctx context.Context, p store.CreateParams) (store.CreateResult, error) {
	store.ApplyFirst(&p.Conversation, &p.Message)
	var res store.CreateResult
	err := s.do(ctx, "create conversation", func(ctx context.Context) error {
		var err error
		res, err = s.create(ctx, &p)
		return err
	})
	return res, err
}

// createArgs returns the parameters of the createConversation statement.
func createArgs(p *store.CreateParams) []any {
	c, m := &p.Conversation, &p.Message
	scope, key, fp := idemArgs(p.Idempotency)
	args := make([]any, 0, 45)
	args = append(args, scope, key, fp)
	args = append(args, conversationArgs(c)...)
	args = append(args, uuidArg(m.Code), string(m.Sender.Kind), m.Sender.ID, string(m.Sender.UserType), m.Content, m.Language, m.CreatedAt)
	return append(args, eventArrays(p.Events)...)
}

func (s *Store) create(ctx context.Context, p *store.CreateParams) (store.CreateResult, error) {
	c, m := p.Conversation, p.Message
	var convID, msgID int64
	var rec idemRecord
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, s.q.createConversation, createArgs(p)...).Scan(
			&convID, &msgID, &rec.found, &rec.fingerprint, &rec.conversationID, &rec.messageID)
	})
	if code, constraint := pgCode(err); code == codeUniqueViolation &&
		(constraint == "conversations_key" || constraint == "idempotency_key" || constraint == "conversations_code") {
		return s.createConflict(ctx, p, constraint == "conversations_code")
	}
	if err != nil {
		return store.CreateResult{}, err
	}
	if rec.found {
		return s.replayCreate(ctx, p.Idempotency, rec)
	}
	normalizeConversation(&c)
	normalizeMessage(&m)
	c.ID, c.LastMessageID = convID, msgID
	m.ID, m.ConversationID, m.Seq = msgID, convID, 1
	return store.CreateResult{Conversation: c, Message: m}, nil
}

func (s *Store) replayCreate(ctx context.Context, p *store.Idempotency, rec idemRecord) (store.CreateResult, error) {
	c, m, err := s.replay(ctx, p, rec)
	if err != nil {
		return store.CreateResult{}, err
	}
	return store.CreateResult{Conversation: c, Message: m, Replayed: true}, nil
}

// createConflict finds what took a create's place after a unique
// violation. The failed statement was its own transaction, so this query
// runs with a new snapshot that sees the committed winner. An idempotency
// record comes first, then the key; a violation of the code's index with
// neither is ErrDuplicateCode (a committed conversation holds the code:
// nothing is ever deleted).
func (s *Store) createConflict(ctx context.Context, p *store.CreateParams, codeTaken bool) (store.CreateResult, error) {
	c := p.Conversation
	scope, key, _ := idemArgs(p.Idempotency)
	var rec idemRecord
	var existing int64
	err := s.pool.QueryRow(ctx, s.q.conflict, scope, key,
		c.Channel, c.UserID, c.DataSourceID, string(c.Type), string(c.Item.Kind), c.Item.ID).Scan(
		&rec.found, &rec.fingerprint, &rec.conversationID, &rec.messageID, &existing)
	switch {
	case err != nil:
		return store.CreateResult{}, err
	case rec.found: // idempotency first
		return s.replayCreate(ctx, p.Idempotency, rec)
	case existing != 0:
		return store.CreateResult{}, &store.ConversationExistsError{ID: existing}
	case codeTaken:
		return store.CreateResult{}, fmt.Errorf("postgres: conversation code %s: %w", c.Code, store.ErrDuplicateCode)
	}
	// The winner is gone again (its transaction rolled back): try again.
	return store.CreateResult{}, errRaced
}

// AppendMessage adds a message to a conversation. Without a Prepare it is
// one statement (one round trip): the UPDATE of the conversation takes its
// row lock, and the message id and Seq are assigned under it. With a
// Prepare, no lock is held across a round trip either. Without an
// idempotency key, on a conversation that the Store remembers (see
// convCache), it is one round trip: Prepare runs on the remembered
// conversation, then the one-statement write applies only if the
// conversation still has the status (and the code) that Prepare saw. Else
// it is two: the first reads the idempotency record (with its message)
// and the conversation, without a lock; Prepare runs in Go on that
// conversation; the second is the same guarded write. If the status
// changed in between, the whole operation runs again (store.Store's
// Callbacks), up to Options.MaxRetries times, on a conversation read
// again.
func (s *Store) AppendMessage(ctx context.Context, p store.AppendParams) (store.AppendResult, error) {
	var res store.AppendResult
	err := s.do(ctx, "append message", func(ctx context.Context) error {
		var err error
		switch {
		case p.Prepare == nil:
			res, err = s.appendWrite(ctx, &p, nil, nil)
		case p.Idempotency == nil:
			var done bool
			if res, done, err = s.appendRemembered(ctx, &p); !done {
				res, err = s.appendPrepared(ctx, &p)
			}
		default:
			res, err = s.appendPrepared(ctx, &p)
		}
		return err
	})
	return res, err
}

// appendRemembered runs p.Prepare on the conversation the Store
// remembers, if any, and writes, guarded by its status and code. It
// reports done false, having written nothing, when it has no
// conversation, when Prepare refuses it (the refusal must be decided on
// the conversation as it is now), and when the conversation's status
// changed: the caller then reads the conversation and decides again.
// Keys are not looked up: an idempotent write reads first, so that a
// replay never runs Prepare.
func (s *Store) appendRemembered(ctx context.Context, p *store.AppendParams) (store.AppendResult, bool, error) {
	c, ok := s.convs.get(p.ConversationID)
	if !ok {
		return store.AppendResult{}, false, nil
	}
	events, err := p.Prepare(c)
	if err != nil {
		return store.AppendResult{}, false, nil
	}
	res, err := s.appendWrite(ctx, p, events, &c)
	if errors.Is(err, errRaced) {
		s.convs.drop(p.ConversationID)
		return store.AppendResult{}, false, nil
	}
	return res, true, err
}

// appendArgs returns the parameters of the appendMessage statement: the
// message, its events and the conversation whose status and code the
// conversation must still have (nil: any).
func appendArgs(p *store.AppendParams, events []notify.Event, guard *conversation.Conversation) []any {
	m := &p.Message
	scope, key, fp := idemArgs(p.Idempotency)
	args := make([]any, 0, 24)
	args = append(args, scope, key, fp, p.ConversationID, m.CreatedAt, string(m.Sender.Kind),
		uuidArg(m.Code), m.Sender.ID, string(m.Sender.UserType), m.Content, m.Language)
	args = append(args, eventArrays(events)...)
	if guard != nil {
		return append(args, string(guard.Status), uuidArg(guard.Code))
	}
	return append(args, nil, nil)
}

// appendStatement returns the statement of an append and its
// parameters: appendPlain without a key and without events, else
// appendMessage.
func (s *Store) appendStatement(p *store.AppendParams, events []notify.Event, guard *conversation.Conversation) (string, []any) {
	if p.Idempotency != nil || len(events) > 0 {
		return s.q.appendMessage, appendArgs(p, events, guard)
	}
	m := &p.Message
	var status, code any
	if guard != nil {
		status, code = string(guard.Status), uuidArg(guard.Code)
	}
	return s.q.appendPlain, []any{p.ConversationID, m.CreatedAt, string(m.Sender.Kind), uuidArg(m.Code),
		m.Sender.ID, string(m.Sender.UserType), m.Content, m.Language, status, code}
}

// appendRow is the result row of the appendMessage statement.
type appendRow struct {
	written bool
	conv    *convScan
	rec     idemRecord
}

func (r *appendRow) scan(row pgx.Row) error {
	r.conv = newConvScan()
	dest := make([]any, 0, 31)
	dest = append(dest, &r.written)
	dest = append(dest, r.conv.dest[:]...)
	dest = append(dest, &r.rec.found, &r.rec.fingerprint, &r.rec.conversationID, &r.rec.messageID)
	return row.Scan(dest...)
}

// result returns the AppendResult of a written row.
func (r *appendRow) result(p *store.AppendParams) store.AppendResult {
	c := r.conv.result()
	m := p.Message
	normalizeMessage(&m)
	m.ID, m.ConversationID, m.Seq, m.CreatedAt = c.LastMessageID, c.ID, c.LastSeq, c.LastMessageAt
	return store.AppendResult{Conversation: c, Message: m}
}

// appendWrite runs the one-statement append with the given events; with
// guard, only if the conversation still has its status and code.
func (s *Store) appendWrite(ctx context.Context, p *store.AppendParams, events []notify.Event, guard *conversation.Conversation) (store.AppendResult, error) {
	var r appendRow
	sql, args := s.appendStatement(p, events, guard)
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return r.scan(conn.QueryRow(ctx, sql, args...))
	})
	if err != nil {
		return store.AppendResult{}, appendError(err)
	}
	switch {
	case r.written:
		res := r.result(p)
		s.ann.add(res.Conversation.ID, res.Message.ID)
		if p.Prepare != nil {
			s.convs.put(res.Conversation)
		}
		return res, nil
	case r.rec.found:
		return s.replayAppend(ctx, p.Idempotency, r.rec)
	case guard != nil:
		// The conversation's status changed after Prepare read it (or
		// the conversation is gone): read it again.
		return store.AppendResult{}, fmt.Errorf("%w: conversation %d changed under the write", errRaced, p.ConversationID)
	}
	return store.AppendResult{}, notFound("conversation %d", p.ConversationID)
}

// appendPrepared reads the idempotency record and the conversation in one
// round trip, runs p.Prepare on the conversation and writes.
func (s *Store) appendPrepared(ctx context.Context, p *store.AppendParams) (store.AppendResult, error) {
	rp, c, found, err := s.keyAndConversation(ctx, p.Idempotency, s.q.getConversation, p.ConversationID)
	switch {
	case err != nil:
		return store.AppendResult{}, err
	case rp.found:
		res, err := s.replayed(ctx, p.Idempotency, &rp, c, found)
		return store.AppendResult(res), err
	case !found:
		return store.AppendResult{}, notFound("conversation %d", p.ConversationID)
	}
	s.convs.put(c)
	events, err := p.Prepare(c)
	if err != nil {
		return store.AppendResult{}, checkError{err}
	}
	return s.appendWrite(ctx, p, events, &c)
}

// keyAndConversation reads in one round trip, without a lock, the
// idempotency record of k (if k is not nil) with its message, and the
// conversation that query selects with args; found reports whether there
// is one.
func (s *Store) keyAndConversation(ctx context.Context, k *store.Idempotency, query string, args ...any) (rp replayRow, c conversation.Conversation, found bool, err error) {
	b := &pgx.Batch{}
	if k != nil {
		b.Queue(s.q.replayKey, k.Scope, k.Key)
	}
	b.Queue(query, args...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if k != nil {
		if err := rp.scan(br.QueryRow()); err != nil {
			return rp, c, false, err
		}
	}
	cs := newConvScan()
	switch err := br.QueryRow().Scan(cs.dest[:]...); {
	case err == nil:
		c, found = cs.result(), true
	case !errors.Is(err, pgx.ErrNoRows):
		return rp, c, false, err
	}
	return rp, c, found, br.Close()
}

// replayRow is the result of the replayKey query: an idempotency record
// and the message its write stored.
type replayRow struct {
	found          bool
	fingerprint    string
	conversationID int64
	messageID      int64
	hasMessage     bool
	msg            *messageScan
}

func (r *replayRow) scan(row pgx.Row) error {
	r.msg = newMessageScan()
	dest := make([]any, 0, 14)
	dest = append(dest, &r.fingerprint, &r.conversationID, &r.messageID, &r.hasMessage)
	dest = append(dest, r.msg.dest[:]...)
	err := row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	r.found = err == nil
	return err
}

// replayed returns the result of a replay: the record's message and its
// conversation, c if it is the one read with the record (found), else
// read now.
func (s *Store) replayed(ctx context.Context, k *store.Idempotency, r *replayRow, c conversation.Conversation, found bool) (store.CreateResult, error) {
	if r.fingerprint != k.Fingerprint {
		return store.CreateResult{}, fmt.Errorf("idempotency key %q: %w", k.Key, store.ErrIdempotencyMismatch)
	}
	if !r.hasMessage {
		return store.CreateResult{}, fmt.Errorf("idempotency key %q: message %d: %w", k.Key, r.messageID, store.ErrNotFound)
	}
	if !found || c.ID != r.conversationID {
		cs := newConvScan()
		if err := s.pool.QueryRow(ctx, s.q.getConversation, r.conversationID).Scan(cs.dest[:]...); err != nil {
			return store.CreateResult{}, fmt.Errorf("replay: conversation %d: %w", r.conversationID, err)
		}
		c = cs.result()
	}
	return store.CreateResult{Conversation: c, Message: r.msg.result(), Replayed: true}, nil
}

// Replay returns what a write with the idempotency key k would replay:
// one round trip reads the record, its message and its conversation.
func (s *Store) Replay(ctx context.Context, k store.Idempotency) (store.CreateResult, bool, error) {
	var res store.CreateResult
	var found bool
	err := s.do(ctx, "replay", func(ctx context.Context) error {
		rp, c, cFound, err := s.keyAndConversation(ctx, &k, s.q.replayConversation, k.Scope, k.Key)
		if err != nil || !rp.found {
			return err
		}
		res, err = s.replayed(ctx, &k, &rp, c, cFound)
		found = err == nil
		return err
	})
	return res, found, err
}

// appendError turns the loss of a race for an idempotency key into a
// retry, which replays the winner's result.
func appendError(err error) error {
	if code, constraint := pgCode(err); code == codeUniqueViolation && constraint == "idempotency_key" {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	return err
}

func (s *Store) replayAppend(ctx context.Context, p *store.Idempotency, rec idemRecord) (store.AppendResult, error) {
	c, m, err := s.replay(ctx, p, rec)
	if err != nil {
		return store.AppendResult{}, err
	}
	return store.AppendResult{Conversation: c, Message: m, Replayed: true}, nil
}

// SetStatus sets a conversation's status and ModifiedAt. Without a Check
// it is one statement; with one, two round trips without a lock held
// across either: the conversation is read, p.Check runs in Go, and the
// UPDATE applies only if the status is still the one Check saw (else the
// whole operation runs again, as for AppendMessage).
func (s *Store) SetStatus(ctx context.Context, p store.StatusParams) (conversation.Conversation, error) {
	var res conversation.Conversation
	err := s.do(ctx, "set status", func(ctx context.Context) error {
		var guard any
		if p.Check != nil {
			cs := newConvScan()
			err := s.pool.QueryRow(ctx, s.q.getConversation, p.ConversationID).Scan(cs.dest[:]...)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("conversation %d", p.ConversationID)
			}
			if err != nil {
				return err
			}
			c := cs.result()
			if err := p.Check(c); err != nil {
				return checkError{err}
			}
			guard = string(c.Status)
		}
		cs := newConvScan()
		err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			return conn.QueryRow(ctx, s.q.setStatus, p.ConversationID, string(p.Status), p.At, guard).Scan(cs.dest[:]...)
		})
		switch {
		case errors.Is(err, pgx.ErrNoRows) && guard != nil:
			return fmt.Errorf("%w: conversation %d changed under the write", errRaced, p.ConversationID)
		case errors.Is(err, pgx.ErrNoRows):
			return notFound("conversation %d", p.ConversationID)
		case err != nil:
			return err
		}
		res = cs.result()
		return nil
	})
	return res, err
}

// MarkRead moves one side's read position forward after p.Check passes on
// the locked conversation: two round trips (one if nothing changes). The
// first locks the conversation and reads the message's Seq and the number
// of the other side's messages after it; store.ApplyRead decides the new
// read state, which the second writes with COMMIT.
func (s *Store) MarkRead(ctx context.Context, p store.ReadParams) (conversation.Conversation, error) {
	if !p.Side.Valid() {
		return conversation.Conversation{}, s.fail(ctx, "mark read", fmt.Errorf("unknown side %q", p.Side))
	}
	var res conversation.Conversation
	err := s.do(ctx, "mark read", func(ctx context.Context) error {
		var seq, after int64
		var seqErr error
		extra := &pgx.Batch{}
		extra.Queue(s.q.readPosition, p.UpToMessageID, p.ConversationID, string(p.Side.Other()))
		read := func(br pgx.BatchResults) error {
			seqErr = br.QueryRow().Scan(&seq, &after)
			if errors.Is(seqErr, pgx.ErrNoRows) {
				return nil
			}
			return seqErr
		}
		t, err := s.beginLocked(ctx, p.ConversationID, extra, read)
		if err != nil {
			return err
		}
		defer t.end(ctx)
		if !t.found {
			return notFound("conversation %d", p.ConversationID)
		}
		if p.Check != nil {
			if err := p.Check(t.conv); err != nil {
				return checkError{err}
			}
		}
		if seqErr != nil {
			return notFound("message %d in conversation %d", p.UpToMessageID, p.ConversationID)
		}
		c := t.conv
		if !store.ApplyRead(&c, p.Side, seq, after) {
			res = c
			return nil // end rolls back the transaction that only locked
		}
		cs := newConvScan()
		scan := func(row pgx.Row) error { return row.Scan(cs.dest[:]...) }
		if err := t.commit(ctx, scan, s.q.setRead, c.ID,
			c.UserRead.ReadSeq, c.UserRead.Unread, c.SellerRead.ReadSeq, c.SellerRead.Unread); err != nil {
			return err
		}
		res = cs.result()
		return nil
	})
	return res, err
}

// normalizeConversation sets c's times to what the database keeps.
func normalizeConversation(c *conversation.Conversation) {
	c.CreatedAt = dbTime(c.CreatedAt)
	c.ModifiedAt = dbTime(c.ModifiedAt)
	c.LastMessageAt = dbTime(c.LastMessageAt)
}

// normalizeMessage sets m's time to what the database keeps.
func normalizeMessage(m *message.Message) {
	m.CreatedAt = dbTime(m.CreatedAt)
}
