package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
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
	args = append(args, m.Code, string(m.Sender.Kind), m.Sender.ID, string(m.Sender.UserType), m.Content, m.Language, m.CreatedAt)
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

// AppendMessage adds a message to a conversation. Without a Check it is
// one statement (one round trip): the UPDATE of the conversation takes its
// row lock, and the message id and Seq are assigned under it. With a
// Check it is two round trips on one connection: BEGIN, the lock and the
// idempotency lookup; then, after Check passed, the same write statement
// and COMMIT.
func (s *Store) AppendMessage(ctx context.Context, p store.AppendParams) (store.AppendResult, error) {
	var res store.AppendResult
	err := s.do(ctx, "append message", func(ctx context.Context) error {
		var err error
		if p.Check == nil {
			res, err = s.appendDirect(ctx, &p)
		} else {
			res, err = s.appendChecked(ctx, &p)
		}
		return err
	})
	return res, err
}

// appendArgs returns the parameters of the appendMessage statement.
func appendArgs(p *store.AppendParams) []any {
	m := &p.Message
	scope, key, fp := idemArgs(p.Idempotency)
	args := make([]any, 0, 22)
	args = append(args, scope, key, fp, p.ConversationID, m.CreatedAt, string(m.Sender.Kind),
		m.Code, m.Sender.ID, string(m.Sender.UserType), m.Content, m.Language)
	return append(args, eventArrays(p.Events)...)
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
	m.ID, m.ConversationID, m.Seq = c.LastMessageID, c.ID, c.LastSeq
	return store.AppendResult{Conversation: c, Message: m}
}

func (s *Store) appendDirect(ctx context.Context, p *store.AppendParams) (store.AppendResult, error) {
	var r appendRow
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return r.scan(conn.QueryRow(ctx, s.q.appendMessage, appendArgs(p)...))
	})
	if err != nil {
		return store.AppendResult{}, appendError(err)
	}
	switch {
	case r.written:
		return r.result(p), nil
	case r.rec.found:
		return s.replayAppend(ctx, p.Idempotency, r.rec)
	}
	return store.AppendResult{}, notFound("conversation %d", p.ConversationID)
}

func (s *Store) appendChecked(ctx context.Context, p *store.AppendParams) (store.AppendResult, error) {
	var extra *pgx.Batch
	var rec idemRecord
	var read func(pgx.BatchResults) error
	if p.Idempotency != nil {
		extra = &pgx.Batch{}
		extra.Queue(s.q.idempotency, p.Idempotency.Scope, p.Idempotency.Key)
		read = func(br pgx.BatchResults) error {
			err := br.QueryRow().Scan(&rec.fingerprint, &rec.conversationID, &rec.messageID)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			rec.found = err == nil
			return err
		}
	}
	t, err := s.beginLocked(ctx, p.ConversationID, extra, read)
	if err != nil {
		return store.AppendResult{}, err
	}
	defer t.end(ctx)
	switch {
	case rec.found:
		t.end(ctx) // before the replay takes a connection
		return s.replayAppend(ctx, p.Idempotency, rec)
	case !t.found:
		return store.AppendResult{}, notFound("conversation %d", p.ConversationID)
	}
	if err := p.Check(t.conv); err != nil {
		return store.AppendResult{}, checkError{err}
	}
	var r appendRow
	if err := t.commit(ctx, r.scan, s.q.appendMessage, appendArgs(p)...); err != nil {
		return store.AppendResult{}, appendError(err)
	}
	switch {
	case r.written:
		return r.result(p), nil
	case r.rec.found:
		// Another append with the same key committed between the lookup
		// and the write. (The connection goes back first: a pool of one
		// must not deadlock.)
		t.end(ctx)
		return s.replayAppend(ctx, p.Idempotency, r.rec)
	}
	return store.AppendResult{}, fmt.Errorf("conversation %d vanished under its lock", p.ConversationID)
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

// SetStatus sets a conversation's status and ModifiedAt after p.Check
// passes on the locked conversation: two round trips.
func (s *Store) SetStatus(ctx context.Context, p store.StatusParams) (conversation.Conversation, error) {
	var res conversation.Conversation
	err := s.do(ctx, "set status", func(ctx context.Context) error {
		t, err := s.beginLocked(ctx, p.ConversationID, nil, nil)
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
		cs := newConvScan()
		scan := func(row pgx.Row) error { return row.Scan(cs.dest[:]...) }
		if err := t.commit(ctx, scan, s.q.setStatus, p.ConversationID, string(p.Status), p.At); err != nil {
			return err
		}
		res = cs.result()
		return nil
	})
	return res, err
}

// MarkRead moves one side's read position forward after p.Check passes on
// the locked conversation: two round trips (one if nothing changes).
func (s *Store) MarkRead(ctx context.Context, p store.ReadParams) (conversation.Conversation, error) {
	var res conversation.Conversation
	err := s.do(ctx, "mark read", func(ctx context.Context) error {
		var seq int64
		var seqErr error
		extra := &pgx.Batch{}
		extra.Queue(s.q.messageSeq, p.UpToMessageID, p.ConversationID)
		read := func(br pgx.BatchResults) error {
			seqErr = br.QueryRow().Scan(&seq)
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
		if seq <= t.conv.Read(p.Side).ReadSeq {
			res = t.conv
			return nil // end rolls back the transaction that only locked
		}
		other := message.SenderUser
		if p.Side == conversation.SideUser {
			other = message.SenderDataSource
		}
		cs := newConvScan()
		scan := func(row pgx.Row) error { return row.Scan(cs.dest[:]...) }
		if err := t.commit(ctx, scan, s.q.markRead, p.ConversationID, seq, string(p.Side), string(other)); err != nil {
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
