package storetest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// privacy returns the harness's store as a store.Privacy (and
// store.Moderation, which the tests use to file reports), or skips the
// test.
func (h *harness) privacy() store.Privacy {
	h.t.Helper()
	h.moderator()
	p, ok := h.s.(store.Privacy)
	if !ok {
		h.t.Skip("the store does not implement the optional store.Privacy")
	}
	return p
}

// erasureWorld is the data the erasure tests start from: a user whose
// personal data is to be erased, the people it talks to, and the texts
// that must go (Erased) and those that must stay (Kept), each unique to
// the test so that a scan of the raw rows finds nothing else.
type erasureWorld struct {
	User  message.Sender // the user to erase, in chMain
	Mine  []int64        // the ids of its conversations in chMain
	Other int64          // its conversation in chOther, which stays
	// Erased are the user's texts in chMain: message contents, a subject,
	// its names and order number, a report's note.
	Erased []string
	// Kept are the texts of everyone else (its sellers' messages and
	// subjects, a seller's report note, its own texts in chOther).
	Kept []string
	// SellerNote is the note of a seller's report about the user's message.
	SellerNote string
	// ReplyError is the LastError of the dead event of the seller's reply.
	ReplyError string
	// IdemKey is the idempotency key of one of the user's messages, with
	// the fingerprint it was written with.
	IdemKey store.Idempotency
}

// buildErasureWorld stores the erasureWorld.
func (h *harness) buildErasureWorld() erasureWorld {
	h.t.Helper()
	m := h.moderator()
	tag := h.unique("zqx")
	w := erasureWorld{User: message.User(h.unique("erase-me"), message.UserRegistered)}
	secret := func(what string) string { s := "Secret" + what + tag; w.Erased = append(w.Erased, s); return s }
	public := func(what string) string { s := "Public" + what + tag; w.Kept = append(w.Kept, s); return s }
	first, last, order := secret("First"), secret("Last"), secret("Order")
	mine := func(c *conversation.Conversation) {
		c.UserID = w.User.ID
		c.Attributes = conversation.Attributes{UserFirstName: first, UserLastName: last, ProductBaseCode: "BASE-KEPT", OrderNumber: order}
	}
	start := func(p store.CreateParams) store.CreateResult {
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(h.t, err)
		return res
	}
	post := func(c conversation.Conversation, s conversation.Side, content string, k *store.Idempotency) store.AppendResult {
		p := h.appendParams(c, s)
		p.Message.Content, p.Idempotency = content, k
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(h.t, err)
		return res
	}

	// c1: started by the user, with its subject; the seller replies.
	p := h.createParams(h.draft(mine, func(c *conversation.Conversation) { c.Subject = secret("Subject") }))
	p.Message.Content = secret("Hello")
	w.IdemKey = store.Idempotency{Scope: "user|" + w.User.ID, Key: "k1", Fingerprint: "fp-" + tag}
	p.Idempotency = &w.IdemKey
	c1 := start(p).Conversation
	reply := post(c1, conversation.SideSeller, public("Reply"), nil)
	again := post(c1, conversation.SideUser, secret("Again"), nil)
	_, err := m.SetHidden(h.ctx, store.HideParams{ConversationID: c1.ID, MessageID: again.Message.ID, Hidden: true, Audit: h.entry(c1, moderation.ActionMessageHidden)})
	require.NoError(h.t, err)
	_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c1.ID, Side: conversation.SideSeller, UpToMessageID: c1.LastMessageID, At: h.tick()})
	require.NoError(h.t, err)

	// c2: a question the seller started to the user: the subject is the
	// seller's and stays; the user's answer and attributes go.
	p = h.createParams(h.draft(mine, func(c *conversation.Conversation) {
		c.Type, c.StartedBy, c.DataSourceID, c.Subject = conversation.TypeQuestion, conversation.SideSeller, "ds-2", public("Subject")
		c.Item = conversation.Product("p-1")
	}))
	p.Message.Content = public("Question")
	c2 := start(p).Conversation
	answer := post(c2, conversation.SideUser, secret("Answer"), nil)

	// The user reports the seller's reply; the seller reports the user's answer.
	r := h.report(c1, reply.Message.ID, w.User, moderation.ReasonAbuse)
	r.Note = secret("Note")
	h.fileReport(r)
	r = h.report(c2, answer.Message.ID, message.DataSource("ds-2"), moderation.ReasonContactDetails)
	r.Note = public("Note")
	w.SellerNote = r.Note
	h.fileReport(r)

	// Someone else's conversation with the same seller, and the user's
	// own conversation in another channel: neither is touched.
	p = h.createParams(h.draft(func(c *conversation.Conversation) { c.Subject = public("Neighbour") }))
	p.Message.Content = public("NeighbourHello")
	start(p)
	p = h.createParams(h.draft(func(c *conversation.Conversation) {
		c.Channel, c.UserID, c.Subject = chOther, w.User.ID, public("OtherChannel")
	}))
	p.Message.Content = public("OtherChannelHello")
	w.Other = start(p).Conversation.ID
	w.Mine = []int64{c1.ID, c2.ID}

	// The notifier failed on the events of the user's first message and of
	// the seller's reply, quoting them.
	failed := map[int64]string{c1.LastMessageID: secret("Err"), reply.Message.ID: public("Err")}
	for _, ev := range h.peekEvents() {
		if why, ok := failed[ev.MessageID]; ok && ev.ConversationID == c1.ID {
			require.NoError(h.t, h.s.FailEvent(h.ctx, "storetest-peek", ev.ID, "webhook said: "+why, h.tick(), true))
			delete(failed, ev.MessageID)
		}
	}
	require.Empty(h.t, failed, "both events were failed")
	w.ReplyError = "webhook said: " + w.Kept[len(w.Kept)-1]
	return w
}

// erase erases party from chMain with an audit entry, failing the test
// on error.
func (h *harness) erase(party message.Sender) store.EraseResult {
	h.t.Helper()
	res, err := h.privacy().EraseParty(h.ctx, h.eraseParams(party))
	require.NoError(h.t, err)
	return res
}

// eraseParams are the parameters of the erasure of party from chMain.
func (h *harness) eraseParams(party message.Sender) store.EraseParams {
	return store.EraseParams{
		Channel: chMain, Party: party,
		Audit: moderation.Entry{Channel: chMain, Staff: "staff-1", Action: moderation.ActionPersonErased, Subject: party, Reason: "GDPR request", At: h.tick()},
	}
}

// erased returns the snapshot s as the erasure of party from chMain
// leaves it (see store.Privacy).
func erased(s snapshot, party message.Sender) snapshot {
	out := snapshot{msgs: make(map[int64][]message.Message)}
	side := conversation.Side(party.Kind)
	for _, c := range s.convs {
		ms := append([]message.Message(nil), s.msgs[c.ID]...)
		if c.Channel == chMain && store.PartyOf(c, side) == party.ID {
			if c.StartedBy == side {
				c.Subject = ""
			}
			if side == conversation.SideUser {
				c.Attributes.UserFirstName, c.Attributes.UserLastName, c.Attributes.OrderNumber = "", "", ""
			}
			for i := range ms {
				if ms[i].Sender.Kind == party.Kind && ms[i].Sender.ID == party.ID {
					ms[i].Content = store.ErasedContent
				}
			}
		}
		out.convs = append(out.convs, c)
		out.msgs[c.ID] = ms
	}
	return out
}

func (f factory) testPrivacy(t *testing.T) {
	t.Run("EraseUser", func(t *testing.T) {
		h := f.new(t)
		h.privacy()
		w := h.buildErasureWorld()
		before := h.snapshot()
		res := h.erase(w.User)
		assert.Equal(t, store.EraseResult{Messages: 3, Conversations: 2, Reports: 1}, res)
		h.requireUnchanged(erased(before, w.User), "only the user's texts in chMain change")
		for _, id := range w.Mine {
			for _, m := range h.messages(id) {
				if m.Sender.ID == w.User.ID {
					assert.Equal(t, store.ErasedContent, m.Content)
				} else {
					assert.NotEmpty(t, m.Content, "the other party's messages stay")
				}
			}
		}
		reports := h.allReports(store.ReportQuery{Channel: chMain})
		require.Len(t, reports, 2)
		assert.Empty(t, reports[0].Note, "the user's own report loses its note")
		assert.Equal(t, w.SellerNote, reports[1].Note, "a report about the user's message keeps its reporter's note")
		audit := pagesByID(h, func(after int64) (store.Page[moderation.Entry], error) {
			return h.moderator().ListAudit(h.ctx, store.AuditQuery{Channel: chMain, AfterID: after, Limit: 2})
		}, func(e moderation.Entry) int64 { return e.ID })
		require.Len(t, audit, 2)
		assert.Equal(t, moderation.ActionPersonErased, audit[1].Action)
		assert.Equal(t, w.User.ID, audit[1].Subject.ID)

		dead, err := h.s.ListDeadEvents(h.ctx, "", 100)
		require.NoError(t, err)
		var errs []string
		for _, ev := range dead {
			errs = append(errs, ev.LastError)
		}
		assert.ElementsMatch(t, []string{"", w.ReplyError}, errs, "the notifier's error about the user's message is cleared")

		_, _, err = h.s.Replay(h.ctx, w.IdemKey)
		assert.ErrorIs(t, err, store.ErrIdempotencyMismatch, "the digest of the erased content is scrubbed")

		t.Run("Idempotent", func(t *testing.T) {
			h := h.sub(t)
			before := h.snapshot()
			assert.Equal(t, store.EraseResult{}, h.erase(w.User))
			h.requireUnchanged(before)
			assert.Len(t, h.allReports(store.ReportQuery{Channel: chMain}), 2)
		})
		t.Run("Unknown", func(t *testing.T) {
			h := h.sub(t)
			before := h.snapshot()
			assert.Equal(t, store.EraseResult{}, h.erase(message.User("nobody", message.UserRegistered)))
			assert.Equal(t, store.EraseResult{}, h.erase(message.DataSource("nobody")))
			h.requireUnchanged(before)
		})
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Erasures of one party racing each other replace every text
		// once: their counts add up to one erasure's, and each is audited.
		h := f.new(t)
		h.privacy()
		w := h.buildErasureWorld()
		before := h.snapshot()
		const n = 8
		pr := h.privacy()
		results := make([]store.EraseResult, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			p := h.eraseParams(w.User)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = pr.EraseParty(h.ctx, p)
			}()
		}
		wg.Wait()
		var sum store.EraseResult
		for i, r := range results {
			require.NoError(t, errs[i])
			sum.Messages += r.Messages
			sum.Conversations += r.Conversations
			sum.Reports += r.Reports
		}
		assert.Equal(t, store.EraseResult{Messages: 3, Conversations: 2, Reports: 1}, sum)
		h.requireUnchanged(erased(before, w.User))
		audit := pagesByID(h, func(after int64) (store.Page[moderation.Entry], error) {
			return h.moderator().ListAudit(h.ctx, store.AuditQuery{Channel: chMain, AfterID: after, Limit: 2})
		}, func(e moderation.Entry) int64 { return e.ID })
		assert.Len(t, audit, 1+n, "the hide, and every erasure")
	})
	t.Run("EraseDataSource", func(t *testing.T) {
		h := f.new(t)
		h.privacy()
		w := h.buildErasureWorld()
		before := h.snapshot()
		res := h.erase(message.DataSource("ds-2"))
		// c2's subject and question, nothing of the user's attributes.
		assert.Equal(t, store.EraseResult{Messages: 1, Conversations: 1, Reports: 1}, res)
		h.requireUnchanged(erased(before, message.DataSource("ds-2")))
		c2 := h.get(w.Mine[1])
		assert.NotEmpty(t, c2.Attributes.UserFirstName, "a seller's erasure keeps the user's attributes")
		assert.Equal(t, store.EraseResult{}, h.erase(message.DataSource("ds-2")))
	})
}

// Scan returns where (for example "messages.content") the text needle
// occurs in the raw stored rows of s, every table and every text column.
type Scan func(t *testing.T, s store.Store, needle string) []string

// RunErasureScan checks, on a store of newStore that implements
// store.Privacy, that after erasing a user no stored field holds its
// content, subject, names, order number or report note: scan, which the
// backend's own test provides (it knows its tables), must find each of
// them before the erasure and none after, and must still find the other
// parties' texts.
func RunErasureScan(t *testing.T, newStore func(t *testing.T) store.Store, scan Scan) {
	h := factory(newStore).new(t)
	h.privacy()
	w := h.buildErasureWorld()
	for _, s := range append(w.Erased, w.Kept...) {
		require.NotEmpty(t, scan(t, h.s, s), "the scan finds %q before the erasure", s)
	}
	h.erase(w.User)
	for _, s := range w.Erased {
		assert.Empty(t, scan(t, h.s, s), "%q is erased everywhere", s)
	}
	for _, s := range w.Kept {
		assert.NotEmpty(t, scan(t, h.s, s), "%q is kept", s)
	}
}
