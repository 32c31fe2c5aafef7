// Package httpapi serves seed 000's HTTP API (conversations, messages,
// public questions and reviews, read state) over a parley.Service, as one
// net/http handler that a program mounts where it likes:
//
//	api, err := httpapi.New(svc, httpapi.Config{
//		Prefix:        "/parley",
//		Authenticator: httpapi.AuthenticatorFunc(myAuth), // request → parley.Actor
//		Directory:     myDirectory,                        // ids → user, data source, item objects
//		PublicChannel: "1",
//	})
//	mux.Handle("/parley/", api)
//
// It uses only the standard library's method-and-path patterns. Who may do
// what is decided by the Service; the handler authenticates (with the
// program's Authenticator), decodes, and renders.
//
// # Routes
//
// Paths end with a slash, as seed 000's do; {channel} is a channel id and
// {id} a conversation id.
//
//	GET  /api/v1/remote/{channel}/conversations/           list (filters below)
//	POST /api/v1/remote/{channel}/conversations/           start, or add a message when "conversation" is set
//	GET  /api/v1/remote/{channel}/conversations/{id}/      one conversation
//	POST /api/v1/remote/{channel}/conversations/{id}/read/ mark read: {"message": id}
//	GET  /api/v1/remote/{channel}/messages/?conversation=  a conversation's messages, newest first
//	POST /api/v1/remote/{channel}/messages/                add a message
//	GET  /api/v1/remote/{channel}/unread/                  {"messages": n, "conversations": m}
//	GET  /users/conversations/                             the same, for users
//	POST /users/conversations/
//	GET  /users/conversations/{id}/
//	POST /users/conversations/{id}/read/
//	GET  /users/messages/?conversation=
//	POST /users/messages/
//	GET  /users/unread/
//	GET  /public-questions/                                public, no authentication
//	GET  /public-reviews/                                  public, no authentication
//
// The messages listing also polls: with after=ID it returns the messages
// after that one, oldest first, at most page_size (after=0: from the
// first); with wait=N as well, it waits up to N seconds (at most
// DefaultMaxWait) and answers as soon as a message arrives, or with an
// empty list. Waiting costs no store query while nothing is posted.
//
// # Who may call
//
// The /users/ routes are for users (parley.User, parley.Guest). The remote
// routes are for a seller (parley.Seller) acting for its own data source and
// for a trusted integration of the channel (parley.Integration); the
// {channel} of the path must be the caller's channel, else the answer is
// 404, as for everything of another channel. Anyone else gets 403.
//
// A write names its sender with content_type ("user" or "datasource") and
// content_id, which become parley.Actor.OnBehalfOf: an integration may name
// any user or data source of its channel (and must name one); a user or a
// seller may leave them out or name itself, and naming anyone else is 403
// with nothing written. user_type is taken from the body only for a user
// that an integration names; a user's own type is the Authenticator's.
// Reading by an integration (lists, messages) sees the whole channel; for
// read state an integration names the party (content_type and content_id in
// the body of read/, or as query parameters of unread/).
//
// # Requests
//
// Bodies are JSON objects (Content-Type application/json, or none) of at
// most Config.MaxBodyBytes (1 MiB; larger is 413). Ids (datasource, user,
// content_id, item_id, conversation, message) may be JSON strings or
// integers, as seed 000 sends both (see FlexID). Unknown body fields are
// ignored. A POST to conversations/ with conversation set adds a message
// and uses only message_content, content_type, content_id, user_type and
// language_code. Both write endpoints answer 200, as seed 000 shows; an
// Idempotency-Key header makes a write safe to retry.
//
// # Listings
//
// Listings answer {count, next, previous, results}. count is exact; next is
// a full URL carrying an opaque cursor and page_size; previous is always
// null, because listings page forward only (keyset cursors that stay fast
// at any depth). page_size (or limit) defaults to DefaultPageSize and is
// capped at MaxPageSize; page=1 is accepted and any other page number is
// 400 (follow next). A cursor that was altered is 400.
//
// Conversation filters, all optional and combined with AND: user_id,
// product, order_item, item_type (product, orderitem), data_source_id (or
// its alias data_source), product_base_code, conversation_type, status
// (open, closed), user__first_name, user__last_name, order_number,
// created_date and modified_date. A date filter takes a date (YYYY-MM-DD:
// that whole day in UTC) or an RFC 3339 time; created_date__gte,
// created_date__lte, modified_date__gte and modified_date__lte bound the
// range inclusively. The public listings take only user_id, product,
// order_item, item_type, data_source_id, data_source, product_base_code and
// the dates. An unknown query parameter, a repeated one or an unknown
// choice is 400 naming it, so that a misspelt filter does not silently list
// everything; empty values are ignored.
//
// Each listed conversation has seed 000's id, user (object), datasource
// (object), item_object, message_set (its newest Config.MessageSetSize
// messages, oldest first; each {id, message_content, user_type,
// content_type, content_id, content_object, created_date}),
// conversation_type and last_message_date, and also item_content, subject,
// status, created_date, modified_date and unread_count (the caller's unread
// messages; a seller's or integration's is the data source's).
//
// The public listings show the channel of Config.PublicChannel, or, when
// it is empty, of the required channel query parameter. Their users are
// bare ids; user objects carry only id and first_name and data source
// objects only pk, name, slug, title and is_active: no email address or
// phone number is ever part of a public answer.
//
// # Errors
//
// Errors have Django REST framework's shapes, chosen in one table
// (errorTable in errors.go):
//
//	400 {"field": ["sentence", ...], ...}                  invalid input, one key per field (parley.ValidationErrors)
//	400 {"detail": "JSON parse error at byte N."}          malformed JSON
//	400 ["Conversation already exists"]                    parley.ErrConversationExists
//	400 {"non_field_errors": ["DataSource can't reply to a review."]}  parley.ErrReviewReply
//	400 {"non_field_errors": ["A data source can only start message conversations."]}  parley.ErrSellerStart
//	400 {"non_field_errors": ["The conversation is closed."]}  parley.ErrConversationClosed
//	400 {"cursor": ["Invalid cursor."]}                    parley.ErrInvalidCursor
//	401 {"detail": "Authentication credentials were not provided."}  the Authenticator failed
//	403 {"detail": "You do not have permission to perform this action."}  parley.ErrPermission
//	404 {"detail": "Not found."}                           parley.ErrNotFound, unknown path or id, another channel
//	405 {"detail": "Method \"DELETE\" not allowed."}       with an Allow header
//	413 {"detail": "Request body is larger than 1048576 bytes."}
//	415 {"detail": "Unsupported media type \"text/plain\" in request."}
//	422 {"detail": "This Idempotency-Key was used for a different request."}
//	503 {"detail": "..."}                                  cancelled, timed out, store closed
//	500 {"detail": "A server error occurred.", "request_id": "..."}
//
// No error text of the Service, the store or the Directory reaches a
// response: a 500 is logged to Config.Logger with its request id, which
// the answer carries. Every response has an X-Request-Id header (the
// client's, if it sent a safe one).
package conversationsv1
