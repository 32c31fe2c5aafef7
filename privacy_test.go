package parley_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
)

var aliceParty = message.User("545382", message.UserRegistered)

// privacyWorld knows alice's names and an order item with its number.
func privacyWorld(o *parley.Options) {
	o.World = &parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{
			"545382": {ID: "545382", FirstName: "Zelda", LastName: "Quist"},
			"545383": {ID: "545383", FirstName: "Bob", LastName: "Bauer"},
		},
		DataSourceMap: map[string]parley.DataSourceInfo{"1": {ID: "1"}, "2": {ID: "2"}},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			conversation.Product("1"):   {Item: conversation.Product("1"), DataSourceID: "1", BaseCode: "Q800T"},
			conversation.OrderItem("1"): {Item: conversation.OrderItem("1"), DataSourceID: "1", BaseCode: "Q800T", OrderNumber: "ORD-77"},
		},
	}
}

// privacyFixture: alice asks shop 1 about her order (one of her messages
// hidden), shop 1 reports one of hers, she reports bob's review.
type privacyFixture struct {
	conv, review conversation.Conversation
	first, reply message.Message
}

func newPrivacyFixture(t *testing.T, h *harness) privacyFixture {
	t.Helper()
	var f privacyFixture
	res := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.OrderItem("1"), Subject: "My order", Content: "Alice secret one"})
	f.conv, f.first = res.Conversation, res.Message
	reply, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: f.conv.ID, Content: "Shop reply"})
	require.NoError(t, err)
	f.reply = reply.Message
	second, err := h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: f.conv.ID, Content: "Alice secret two"})
	require.NoError(t, err)
	_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: f.conv.ID, MessageID: second.Message.ID, Reason: "phone number"})
	require.NoError(t, err)
	_, _, err = h.svc.Report(ctx, shop1, parley.ReportRequest{ConversationID: f.conv.ID, MessageID: f.first.ID, Reason: moderation.ReasonAbuse, Note: "Shop note"})
	require.NoError(t, err)
	f.review = h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "Bob review"}).Conversation
	_, _, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: f.review.ID, MessageID: f.review.LastMessageID, Reason: moderation.ReasonSpam, Note: "Alice note"})
	require.NoError(t, err)
	return f
}

func contents(c parley.ExportedConversation) []string {
	var out []string
	for _, m := range c.Messages {
		out = append(out, m.Content)
	}
	return out
}

func TestService_Export(t *testing.T) {
	h := newHarness(t, privacyWorld)
	f := newPrivacyFixture(t, h)

	d, err := h.svc.Export(ctx, staff, aliceParty)
	require.NoError(t, err)
	assert.Equal(t, parley.ExportFormat, d.Format)
	assert.Equal(t, "staff-7", d.ExportedBy)
	require.Len(t, d.Conversations, 1, "bob's review is not alice's conversation")
	c := d.Conversations[0]
	assert.Equal(t, f.conv.ID, c.ID)
	assert.Equal(t, "My order", c.Subject)
	assert.Equal(t, parley.ExportedAttributes{UserFirstName: "Zelda", UserLastName: "Quist", ProductBaseCode: "Q800T", OrderNumber: "ORD-77"}, c.Attributes)
	assert.Equal(t, []string{"Alice secret one", "Shop reply", "Alice secret two"}, contents(c), "hidden content is exported")
	assert.True(t, c.Messages[2].Hidden)
	assert.EqualValues(t, 3, c.MessageCount)
	assert.Equal(t, parley.ExportedRead{ReadSeq: 3, Unread: 0}, c.UserRead)
	require.Len(t, d.ReportsFiled, 1)
	assert.Equal(t, "Alice note", d.ReportsFiled[0].Note)
	require.Len(t, d.ReportsAbout, 1)
	assert.Equal(t, f.first.ID, d.ReportsAbout[0].MessageID)
	require.Len(t, d.Audit, 1)
	assert.Equal(t, moderation.ActionMessageHidden, d.Audit[0].Action)

	// The JSON document, by its documented names.
	raw, err := json.Marshal(d)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, parley.ExportFormat, doc["format"])
	assert.Equal(t, map[string]any{"kind": "user", "id": "545382"}, doc["party"])
	conv := doc["conversations"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"kind": "orderitem", "id": "1"}, conv["item"])
	assert.Equal(t, "ORD-77", conv["attributes"].(map[string]any)["order_number"])
	msg := conv["messages"].([]any)[2].(map[string]any)
	assert.Equal(t, "Alice secret two", msg["content"])
	assert.Equal(t, true, msg["hidden"])
	assert.Equal(t, false, msg["erased"])

	// A seller's export holds its conversations, alice's and bob's.
	d, err = h.svc.Export(ctx, staff, message.DataSource("1"))
	require.NoError(t, err)
	assert.Len(t, d.Conversations, 2)
	assert.Len(t, d.ReportsFiled, 1)
	assert.Empty(t, d.ReportsAbout, "no report is about the seller's own messages")

	// An unknown party exports as empty lists, not null.
	d, err = h.svc.Export(ctx, staff, message.User("nobody", message.UserRegistered))
	require.NoError(t, err)
	raw, err = json.Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"conversations":[],"reports_filed":[],"reports_about":[],"audit":[]`)
}

func TestService_Erase(t *testing.T) {
	h := newHarness(t, privacyWorld)
	f := newPrivacyFixture(t, h)

	got, err := h.svc.Erase(ctx, staff, aliceParty, "GDPR request 2026-17")
	require.NoError(t, err)
	assert.Equal(t, parley.Erasure{Messages: 2, Conversations: 1, Reports: 1}, got)

	d, err := h.svc.Export(ctx, staff, aliceParty)
	require.NoError(t, err)
	require.Len(t, d.Conversations, 1)
	c := d.Conversations[0]
	assert.Empty(t, c.Subject)
	assert.Equal(t, parley.ExportedAttributes{ProductBaseCode: "Q800T"}, c.Attributes)
	assert.Equal(t, []string{"", "Shop reply", ""}, contents(c), "alice's messages are tombstones, the shop's intact")
	assert.True(t, c.Messages[0].Erased)
	assert.False(t, c.Messages[1].Erased)
	assert.True(t, c.Messages[2].Hidden, "the hidden flag is kept")
	assert.Equal(t, f.reply.ID, c.Messages[1].ID)
	assert.EqualValues(t, 3, c.MessageCount)
	assert.Empty(t, d.ReportsFiled[0].Note)
	assert.Equal(t, "Shop note", d.ReportsAbout[0].Note)
	last := d.Audit[len(d.Audit)-1]
	assert.Equal(t, moderation.ActionPersonErased, last.Action)
	assert.Equal(t, &parley.ExportedSender{Kind: message.SenderUser, ID: "545382"}, last.Subject)
	assert.Equal(t, "GDPR request 2026-17", last.Reason)

	// The seller still reads its conversation, with its reply and counts.
	page, err := h.svc.Messages(ctx, shop1, f.conv.ID, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	assert.EqualValues(t, 3, page.Total)
	got2, err := h.svc.Get(ctx, shop1, f.conv.ID)
	require.NoError(t, err)
	assert.Equal(t, f.conv.Code, got2.Code)

	// A tombstone is not sent to a translator.
	calls := 0
	tr := newHarness(t, func(o *parley.Options) {
		o.Translator = parley.TranslatorFunc(func(_ context.Context, text, _, _ string) (string, error) { calls++; return text, nil })
	})
	msgs, err := h.svc.Poll(ctx, shop1, f.conv.ID, 0, 0)
	require.NoError(t, err)
	for i := range msgs {
		msgs[i].Language = "pt"
	}
	got3 := tr.svc.Translate(ctx, "en", msgs)
	assert.Equal(t, 1, calls, "only the shop's reply has content")
	assert.Equal(t, "", got3[0].Content)

	// Idempotent: nothing left to replace, recorded again.
	got, err = h.svc.Erase(ctx, staff, aliceParty, "GDPR request 2026-17")
	require.NoError(t, err)
	assert.Equal(t, parley.Erasure{}, got)
	again, err := h.svc.Export(ctx, staff, aliceParty)
	require.NoError(t, err)
	assert.Equal(t, d.Conversations, again.Conversations)
	assert.Len(t, again.Audit, len(d.Audit)+1)
}

func TestService_PrivacyPermissions(t *testing.T) {
	h := newHarness(t, privacyWorld)
	newPrivacyFixture(t, h)
	before, err := h.svc.Export(ctx, staff, aliceParty)
	require.NoError(t, err)
	forAlice, err := channel.OnBehalfOf(aliceParty)
	require.NoError(t, err)

	for _, a := range []parley.Actor{alice, bob, guest, shop1, shop2, channel, forAlice} {
		_, err := h.svc.Export(ctx, a, aliceParty)
		assert.ErrorIs(t, err, parley.ErrPermission, "%s exports", a)
		_, err = h.svc.Erase(ctx, a, aliceParty, "because")
		assert.ErrorIs(t, err, parley.ErrPermission, "%s erases", a)
	}

	// Another channel's operator finds nothing, and erases nothing.
	d, err := h.svc.Export(ctx, otherStaff, aliceParty)
	require.NoError(t, err)
	assert.Empty(t, d.Conversations)
	assert.Empty(t, d.ReportsFiled)
	assert.Empty(t, d.Audit)
	got, err := h.svc.Erase(ctx, otherStaff, aliceParty, "wrong channel")
	require.NoError(t, err)
	assert.Equal(t, parley.Erasure{}, got)

	// Bad input is a validation error.
	for _, p := range []message.Sender{{}, {Kind: "staff", ID: "1"}, {Kind: message.SenderUser}, {Kind: message.SenderUser, ID: "a b"}} {
		_, err := h.svc.Export(ctx, staff, p)
		assert.ErrorIs(t, err, parley.ErrInvalid, "%+v", p)
		_, err = h.svc.Erase(ctx, staff, p, "x")
		assert.ErrorIs(t, err, parley.ErrInvalid, "%+v", p)
	}
	_, err = h.svc.Erase(ctx, staff, aliceParty, "")
	assert.ErrorIs(t, err, parley.ErrInvalid, "a reason is required")

	after, err := h.svc.Export(ctx, staff, aliceParty)
	require.NoError(t, err)
	assert.Equal(t, before.Conversations, after.Conversations, "nothing was erased")
	assert.Equal(t, before.ReportsFiled, after.ReportsFiled)

	// A store without the features.
	svc, err := parley.New(plainStore{h.store}, parley.DefaultOptions())
	require.NoError(t, err)
	_, err = svc.Export(ctx, staff, aliceParty)
	assert.ErrorIs(t, err, parley.ErrUnsupported)
	_, err = svc.Erase(ctx, staff, aliceParty, "x")
	assert.ErrorIs(t, err, parley.ErrUnsupported)
}
