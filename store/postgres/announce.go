package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// announcerApplicationName is the application_name of the announcer's
// connection.
const announcerApplicationName = "parley-feed-announcer"

// maxPayload bounds the payload of one notification (PostgreSQL refuses
// more than 7999 bytes).
const maxPayload = 7900

// The timing of the announcer.
const (
	// announceTimeout bounds one announcement, including its connection.
	announceTimeout = 5 * time.Second
	// announceRetryMin and announceRetryMax bound the pause after a
	// failed announcement.
	announceRetryMin = 10 * time.Millisecond
	announceRetryMax = time.Second
)

// An announcer sends the notifications of the feed (see WatchMessages)
// for the appends its Store committed, after they committed, from one
// goroutine and on a connection of its own. A NOTIFY inside the write's
// transaction would make every append take PostgreSQL's cluster-wide
// lock that serializes the commits of transactions that notify (held
// through the commit's WAL flush), so that concurrent appends would
// commit one at a time. Instead AppendMessage records the conversation
// and message ids it committed, and the announcer sends what has
// accumulated in one statement, one transaction: while it sends, the next
// appends accumulate, so that under load one notification transaction
// covers many appends. The statement notifies only if a feed listens on
// the schema's channel in the database (a connection with the feed's
// application_name; see feedListenerName), so that nobody pays for
// notifications nobody hears.
//
// Payloads are comma-separated "conversation:message" pairs, the highest
// message id committed in each conversation since the last announcement.
//
// An announcement that fails (the connection is lost) is kept and sent
// again after a pause. What a crash of the process loses between a commit
// and its announcement, listeners find in their periodic sweep of the
// message index (see WatchMessages).
type announcer struct {
	s *Store

	mu sync.Mutex
	// pending maps the conversations appended to since the last
	// announcement to the highest message id committed in each.
	pending map[int64]int64
	stopped bool

	wake chan struct{} // something is pending; capacity 1
	stop chan struct{} // closed by close
	done chan struct{} // closed when the goroutine has ended

	// Owned by the goroutine.
	conn     *pgx.Conn
	payloads []string
}

// newAnnouncer returns the announcer of s; its goroutine runs loop.
func newAnnouncer(s *Store) *announcer {
	return &announcer{
		s:       s,
		pending: make(map[int64]int64),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// add records that message msgID of conversation convID has committed.
// It never waits for the database.
func (a *announcer) add(convID, msgID int64) {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	if msgID > a.pending[convID] {
		a.pending[convID] = msgID
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// close sends what is pending (within announceTimeout) and ends the
// goroutine. Later adds are dropped.
func (a *announcer) close() {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		<-a.done
		return
	}
	a.stopped = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
}

func (a *announcer) loop() {
	defer close(a.done)
	defer func() {
		if a.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = a.conn.Close(ctx)
			cancel()
		}
	}()
	backoff := announceRetryMin
	for {
		select {
		case <-a.wake:
		case <-a.stop:
			_ = a.send(a.take()) // the last ones, once
			return
		}
		batch := a.take()
		if len(batch) == 0 {
			continue
		}
		if err := a.send(batch); err != nil {
			a.putBack(batch)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-a.stop:
				t.Stop()
				_ = a.send(a.take())
				return
			}
			backoff = min(2*backoff, announceRetryMax)
			select {
			case a.wake <- struct{}{}:
			default:
			}
			continue
		}
		backoff = announceRetryMin
	}
}

// take returns what is pending and starts a new set.
func (a *announcer) take() map[int64]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) == 0 {
		return nil
	}
	batch := a.pending
	a.pending = make(map[int64]int64, len(batch))
	return batch
}

// putBack returns a batch that could not be sent to the pending set.
func (a *announcer) putBack(batch map[int64]int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c, m := range batch {
		if m > a.pending[c] {
			a.pending[c] = m
		}
	}
}

// send announces batch in one statement: one notification per payload,
// all in one transaction, and none if no feed listens.
func (a *announcer) send(batch map[int64]int64) error {
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), announceTimeout)
	defer cancel()
	if a.conn == nil || a.conn.IsClosed() {
		cfg := a.s.pool.Config().ConnConfig.Copy()
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		cfg.RuntimeParams["application_name"] = announcerApplicationName
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		a.conn = conn
	}
	a.payloads = payloads(a.payloads[:0], batch)
	_, err := a.conn.Exec(ctx, a.s.q.announce, a.payloads)
	if err != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		_ = a.conn.Close(cctx)
		ccancel()
		a.conn = nil
	}
	return err
}

// payloads appends to dst the notification payloads of batch:
// comma-separated "conversation:message" pairs, at most maxPayload bytes
// each.
func payloads(dst []string, batch map[int64]int64) []string {
	var b []byte
	for c, m := range batch {
		if len(b) > maxPayload-42 { // two int64s, ':' and ','
			dst = append(dst, string(b))
			b = b[:0]
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, c, 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, m, 10)
	}
	if len(b) > 0 {
		dst = append(dst, string(b))
	}
	return dst
}

// parsePayload calls fn with each conversation and message id of a
// notification's payload. A bare conversation id (what versions before
// the announcer sent) has message id 0; anything else is not a store's
// and is skipped.
func parsePayload(p string, fn func(convID, msgID int64)) {
	for p != "" {
		item := p
		if i := strings.IndexByte(p, ','); i >= 0 {
			item, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		conv, msg := item, ""
		if i := strings.IndexByte(item, ':'); i >= 0 {
			conv, msg = item[:i], item[i+1:]
		}
		c, err := strconv.ParseInt(conv, 10, 64)
		if err != nil || c <= 0 {
			continue
		}
		var m int64
		if msg != "" {
			if m, err = strconv.ParseInt(msg, 10, 64); err != nil || m <= 0 {
				continue
			}
		}
		fn(c, m)
	}
}
