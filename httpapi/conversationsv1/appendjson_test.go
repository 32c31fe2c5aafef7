package conversationsv1

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// reflected is what encoding/json writes for v without HTML escaping
// (the values' AppendJSON is not a json.Marshaler, so this is the
// reflection encoder).
func reflected(t *testing.T, v any) string {
	t.Helper()
	b, err := wire.Marshal(nil, v)
	require.NoError(t, err)
	return string(b)
}

// TestAppendJSON checks that every appender writes what encoding/json
// writes for the same value: odd strings, non-numeric ids, nulls, omitted
// fields, extras, objects encoded once.
func TestAppendJSON(t *testing.T) {
	odd := "<b>\"Q&A\"</b>\n\t\x01 é 😀 \u2028 \xff"
	str := func(s string) *string { return &s }
	id := func(s string) *httpapi.FlexID { f := httpapi.FlexID(s); return &f }
	unread := int64(3)
	user := userJSON{ID: "545382", FirstName: odd, LastName: "L", Email: "a@b.c", Phone: str("+90 555"), Gender: nil}
	ds := dataSourceJSON{PK: "ds-α", Name: odd, Slug: "s", Title: "t", SupplierCode: "c", Address: str(odd),
		Extras: map[string]any{"k<": []any{1.5, "v&", nil, map[string]any{"n": true}}}, PriceList: id("1"), StockList: nil, IsActive: true}
	emptyExtras := ds
	emptyExtras.Extras = map[string]any{}
	nilExtras := ds
	nilExtras.Extras = nil
	o := objects{encoded: map[objectKey]encodedObject{}}
	o.dss = map[string]parley.DataSourceInfo{"7": {ID: "7", Name: odd, Extras: map[string]any{"x": "<y>"}}}
	o.users = map[string]parley.UserInfo{"9": {ID: "9", FirstName: odd}}
	msgs := []messageJSON{
		{ID: 1, MessageContent: odd, UserType: str("registered"), ContentType: "user", ContentID: "545382", ContentObject: user, CreatedDate: "2023-07-19T10:25:40.208173Z"},
		{ID: 2, Conversation: 5, MessageContent: "", ContentType: "datasource", ContentID: "007", ContentObject: ds},
		{ID: 3, ContentType: "datasource", ContentID: "7", ContentObject: o.dataSource("7")},
		{ID: 4, ContentType: "user", ContentID: "9", ContentObject: o.user("9")},
		{ID: 5, ContentType: "user", ContentID: "9", ContentObject: o.user("9")}, // encoded once, used twice
		{ID: 6, ContentType: "user", ContentID: "x", ContentObject: publicUserJSON{ID: "12345678901234567890", FirstName: odd}},
		{ID: 7, ContentType: "datasource", ContentID: "1", ContentObject: publicDataSourceJSON{PK: "1", Name: odd, IsActive: true}},
		{ID: 8, ContentType: "datasource", ContentID: "1", ContentObject: emptyExtras},
		{ID: 9, ContentType: "datasource", ContentID: "1", ContentObject: nilExtras},
		{ID: 10, ContentType: "datasource", ContentID: "1", ContentObject: nil},
	}
	convs := []conversationJSON{
		{ID: 1, User: user, DataSource: ds, ItemContent: str("product"), ItemObject: &itemJSON{PK: "1", Name: odd, SKU: "s", AbsoluteURL: "/p/1/?a=1&b=2"},
			MessageSet: msgs, ConversationType: "question", LastMessageDate: str("2023-07-19T10:25:40.208173Z"), Subject: str(odd),
			Status: "open", CreatedDate: "c", ModifiedDate: "m", UnreadCount: &unread},
		{ID: 2, User: httpapi.FlexID("545383"), DataSource: o.dataSource("7"), MessageSet: []messageJSON{}, ConversationType: "review"},
		{ID: 3, User: httpapi.FlexID("not a number"), MessageSet: nil},
	}
	for name, v := range map[string]any{
		"Conversations": pageJSON{Count: 3, Next: str("/x/?cursor=a&page_size=20"), Previous: nil, Results: convs},
		"Messages":      pageJSON{Count: 0, Results: msgs},
		"Empty":         pageJSON{Results: []conversationJSON{}},
		"NilResults":    pageJSON{Results: []conversationJSON(nil)},
		"Other":         pageJSON{Results: []map[string]string{{"a": "<b>"}}},
		"Conversation":  convs[0],
	} {
		t.Run(name, func(t *testing.T) {
			got, err := v.(httpapi.JSONAppender).AppendJSON([]byte("prefix"))
			require.NoError(t, err)
			require.Equal(t, reflected(t, v), string(got[len("prefix"):]))
		})
	}

	t.Run("Unencodable", func(t *testing.T) {
		bad := ds
		bad.Extras = map[string]any{"f": func() {}}
		_, err := pageJSON{Results: []messageJSON{{ContentObject: bad}}}.AppendJSON(nil)
		require.Error(t, err)
		o := objects{encoded: map[objectKey]encodedObject{}, dss: map[string]parley.DataSourceInfo{"1": {Extras: map[string]any{"f": func() {}}}}}
		_, err = conversationJSON{DataSource: o.dataSource("1")}.AppendJSON(nil)
		require.Error(t, err, "an object that does not encode is not cached, and fails the response")
	})
}
