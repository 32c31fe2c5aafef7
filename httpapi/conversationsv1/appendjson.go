package conversationsv1

import (
	"fmt"
	"strconv"

	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// The listing's values write their own JSON (httpapi.JSONAppender): a page
// of 20 conversations with their message sets is some 200 objects, which
// encoding/json walks by reflection, calling FlexID's MarshalJSON and
// checking its output for every id. Each appender writes exactly what
// encoding/json writes for its type (TestAppendJSON compares them).

var (
	_ httpapi.JSONAppender = pageJSON{}
	_ httpapi.JSONAppender = conversationJSON{}
)

// encodedObject is a user or data source object encoded once for a
// response (see objects.once).
type encodedObject []byte

// MarshalJSON returns the encoding.
func (e encodedObject) MarshalJSON() ([]byte, error) { return e, nil }

// appendValue appends one of the listing's values, and any other with
// encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case encodedObject:
		return append(b, v...), nil
	case httpapi.FlexID:
		return v.AppendJSON(b), nil
	case []conversationJSON:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = v[i].AppendJSON(b); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case []messageJSON:
		return appendMessages(b, v)
	case userJSON:
		return v.appendJSON(b), nil
	case publicUserJSON:
		return v.appendJSON(b), nil
	case dataSourceJSON:
		return v.appendJSON(b)
	case publicDataSourceJSON:
		return v.appendJSON(b), nil
	}
	return appendReflect(b, v)
}

// appendReflect appends v with encoding/json, without HTML escaping.
func appendReflect(b []byte, v any) ([]byte, error) {
	b, err := wire.Marshal(b, v)
	if err != nil {
		return b, fmt.Errorf("conversationsv1: encode %T: %w", v, err)
	}
	return b, nil
}

func appendOptID(b []byte, id *httpapi.FlexID) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return id.AppendJSON(b)
}

// AppendJSON implements httpapi.JSONAppender.
func (p pageJSON) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, p.Count, 10)
	b = append(b, `,"next":`...)
	b = wire.AppendOptString(b, p.Next)
	b = append(b, `,"previous":`...)
	b = wire.AppendOptString(b, p.Previous)
	b = append(b, `,"results":`...)
	b, err := appendValue(b, p.Results)
	return append(b, '}'), err
}

// AppendJSON implements httpapi.JSONAppender.
func (c conversationJSON) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, c.ID, 10)
	b = append(b, `,"user":`...)
	b, err := appendValue(b, c.User)
	if err != nil {
		return b, err
	}
	b = append(b, `,"datasource":`...)
	if b, err = appendValue(b, c.DataSource); err != nil {
		return b, err
	}
	b = append(b, `,"item_content":`...)
	b = wire.AppendOptString(b, c.ItemContent)
	b = append(b, `,"item_object":`...)
	if c.ItemObject == nil {
		b = append(b, "null"...)
	} else {
		b = c.ItemObject.appendJSON(b)
	}
	b = append(b, `,"message_set":`...)
	if b, err = appendMessages(b, c.MessageSet); err != nil {
		return b, err
	}
	b = append(b, `,"conversation_type":`...)
	b = wire.AppendString(b, c.ConversationType)
	b = append(b, `,"last_message_date":`...)
	b = wire.AppendOptString(b, c.LastMessageDate)
	b = append(b, `,"subject":`...)
	b = wire.AppendOptString(b, c.Subject)
	b = append(b, `,"status":`...)
	b = wire.AppendString(b, c.Status)
	b = append(b, `,"created_date":`...)
	b = wire.AppendString(b, c.CreatedDate)
	b = append(b, `,"modified_date":`...)
	b = wire.AppendString(b, c.ModifiedDate)
	if c.UnreadCount != nil {
		b = append(b, `,"unread_count":`...)
		b = strconv.AppendInt(b, *c.UnreadCount, 10)
	}
	return append(b, '}'), nil
}

func appendMessages(b []byte, ms []messageJSON) ([]byte, error) {
	if ms == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = ms[i].appendJSON(b); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func (m *messageJSON) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	if m.Conversation != 0 {
		b = append(b, `,"conversation":`...)
		b = strconv.AppendInt(b, m.Conversation, 10)
	}
	b = append(b, `,"message_content":`...)
	b = wire.AppendString(b, m.MessageContent)
	b = append(b, `,"user_type":`...)
	b = wire.AppendOptString(b, m.UserType)
	b = append(b, `,"content_type":`...)
	b = wire.AppendString(b, m.ContentType)
	b = append(b, `,"content_id":`...)
	b = m.ContentID.AppendJSON(b)
	b = append(b, `,"content_object":`...)
	b, err := appendValue(b, m.ContentObject)
	if err != nil {
		return b, err
	}
	b = append(b, `,"created_date":`...)
	b = wire.AppendString(b, m.CreatedDate)
	return append(b, '}'), nil
}

func (u userJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = u.ID.AppendJSON(b)
	b = append(b, `,"first_name":`...)
	b = wire.AppendString(b, u.FirstName)
	b = append(b, `,"last_name":`...)
	b = wire.AppendString(b, u.LastName)
	b = append(b, `,"email":`...)
	b = wire.AppendString(b, u.Email)
	b = append(b, `,"phone":`...)
	b = wire.AppendOptString(b, u.Phone)
	b = append(b, `,"gender":`...)
	b = wire.AppendOptString(b, u.Gender)
	return append(b, '}')
}

func (u publicUserJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = u.ID.AppendJSON(b)
	b = append(b, `,"first_name":`...)
	b = wire.AppendString(b, u.FirstName)
	return append(b, '}')
}

func (d dataSourceJSON) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"pk":`...)
	b = d.PK.AppendJSON(b)
	for _, f := range []struct{ name, v string }{
		{`,"name":`, d.Name}, {`,"slug":`, d.Slug}, {`,"title":`, d.Title}, {`,"supplier_code":`, d.SupplierCode},
	} {
		b = append(b, f.name...)
		b = wire.AppendString(b, f.v)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{
		{`,"address":`, d.Address}, {`,"email":`, d.Email}, {`,"phone_number":`, d.PhoneNumber},
		{`,"fax_number":`, d.FaxNumber}, {`,"kep_address":`, d.KEPAddress},
		{`,"mersis_number":`, d.MersisNumber}, {`,"trade_association":`, d.TradeAssociation},
	} {
		b = append(b, f.name...)
		b = wire.AppendOptString(b, f.v)
	}
	b = append(b, `,"extras":`...)
	if len(d.Extras) == 0 && d.Extras != nil {
		b = append(b, "{}"...)
	} else {
		var err error
		if b, err = appendValue(b, d.Extras); err != nil {
			return b, err
		}
	}
	b = append(b, `,"price_list":`...)
	b = appendOptID(b, d.PriceList)
	b = append(b, `,"stock_list":`...)
	b = appendOptID(b, d.StockList)
	b = append(b, `,"is_active":`...)
	b = strconv.AppendBool(b, d.IsActive)
	return append(b, '}'), nil
}

func (d publicDataSourceJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"pk":`...)
	b = d.PK.AppendJSON(b)
	b = append(b, `,"name":`...)
	b = wire.AppendString(b, d.Name)
	b = append(b, `,"slug":`...)
	b = wire.AppendString(b, d.Slug)
	b = append(b, `,"title":`...)
	b = wire.AppendString(b, d.Title)
	b = append(b, `,"is_active":`...)
	b = strconv.AppendBool(b, d.IsActive)
	return append(b, '}')
}

func (i *itemJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"pk":`...)
	b = i.PK.AppendJSON(b)
	b = append(b, `,"name":`...)
	b = wire.AppendString(b, i.Name)
	b = append(b, `,"sku":`...)
	b = wire.AppendString(b, i.SKU)
	b = append(b, `,"absolute_url":`...)
	b = wire.AppendString(b, i.AbsoluteURL)
	return append(b, '}')
}
