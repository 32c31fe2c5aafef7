// Package conversationsv1 is Parley's dialect of seed 000's HTTP API
// (conversations, messages, public questions and reviews, read state) over
// a parley.Service. The kit (package httpapi) does the rest: a program
// mounts it alone,
//
//	svc, err := parley.New(st, parley.Options{World: myWorld}) // ids → user, data source, item objects
//	conv, err := conversationsv1.Dialect(svc, conversationsv1.Options{PublicChannel: "1"})
//	api, err := httpapi.New(httpapi.Config{
//		Prefix:        "/parley",
//		Authenticator: httpapi.AuthenticatorFunc(myAuth), // request → parley.Actor
//	}, conv)
//	mux.Handle("/parley/", api)
//
// alone, or beside other dialects in the same httpapi.New. Who may do what
// is decided by the Service; the dialect decodes and renders.
//
// Its OpenAPI 3.1 description is served at /api/v1/openapi.json (below
// the Prefix, without authentication).
//
// # Routes
//
// Paths end with a slash, as seed 000's do; {channel} is a channel id and
// {id} a conversation id.
//
//	GET  /api/v1/remote/{channel}/conversations/           list (filters below)
//	POST /api/v1/remote/{channel}/conversations/           start, or add a message when "conversation" is set
//	GET  /api/v1/remote/{channel}/conversations/{id}/      one conversation
//	PATCH /api/v1/remote/{channel}/conversations/{id}/     close or reopen: {"status": "closed"} or {"status": "open"}
//	POST /api/v1/remote/{channel}/conversations/{id}/read/ mark read: {"message": id}
//	GET  /api/v1/remote/{channel}/messages/?conversation=  a conversation's messages, newest first
//	POST /api/v1/remote/{channel}/messages/                add a message
//	POST /api/v1/remote/{channel}/messages/{id}/report/    report message {id} to the operators (below)
//	GET  /api/v1/remote/{channel}/unread/                  {"messages": n, "conversations": m}
//	GET  /api/v1/remote/{channel}/events/                  the caller's live events (text/event-stream)
//	GET  /users/conversations/                             the same, for users
//	POST /users/conversations/
//	GET  /users/conversations/{id}/
//	PATCH /users/conversations/{id}/
//	POST /users/conversations/{id}/read/
//	GET  /users/messages/?conversation=
//	POST /users/messages/
//	POST /users/messages/{id}/report/
//	GET  /users/unread/
//	GET  /users/events/
//	GET  /public-questions/                                public, no authentication
//	GET  /public-reviews/                                  public, no authentication
//
// A report names the message's conversation, a reason from a fixed set
// and an optional note: {"conversation": 12, "reason": "contact_details",
// "note": "..."}; reasons are spam, abuse, contact_details,
// personal_data, illegal and other. A party reports the messages of its
// conversations, anyone of the channel those of a public question or
// review. A new report is 201; the same reporter's second report of a
// message answers the first, 200. Operators read and act on reports with
// package operatorv1.
//
// The messages listing also polls: with after=ID it returns the
// conversation's messages with a greater id, oldest first, at most
// page_size. Any id works: 0 (from the first), a message of another
// conversation, or one past every message (an empty list, 200), with one
// indexed read; with wait=N as well, it waits up to N seconds (capped by the
// kit's WaitLimits) and answers as soon as a message arrives, or with an
// empty list. Waiting costs no store query while nothing is posted, and
// long polls are bounded per actor and in all (429 with Retry-After).
//
// The events route streams, as server-sent events, everything that
// happens in the caller's conversations (see httpapi.Call.ServeEvents):
// conversation.started, message.posted, conversation.read (a read
// receipt when content_type is the other side) and conversation.status,
// each with its position as the event id, a "ready" event first, and
// "reload" when a Last-Event-ID can no longer be resumed. The data is
// {"id", "type", "conversation", "user", "datasource", "content_type",
// "message", "seq", "status", "created_date"}. An integration sees its
// whole channel, or names a party with content_type and content_id.
// Streams share the long polls' bounds per actor and in all.
//
// Close and reopen (PATCH) are for either party of the conversation (the
// Service decides); an integration names the party with content_type and
// content_id. The answer is the conversation.
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
// Bodies are JSON objects (Content-Type application/json, text/json or a
// +json type, or none) of at most DefaultMaxBodyBytes (1 MiB, or the kit's
// Config.MaxBodyBytes; larger is 413), read strictly by the kit: a name given twice, or text with
// invalid UTF-8 or an unpaired surrogate, is 400 naming the field. Ids
// (datasource, user, content_id, item_id, conversation, message) may be
// JSON strings or integers, as seed 000 sends both (see httpapi.FlexID).
// Unknown body fields are ignored. A start written by a user must name
// its datasource, as seed 000 lists it (400 {"datasource": ["This field
// is required."]}); a seller's start is with its own data source. A POST
// to conversations/ with conversation set adds a message and uses only
// message_content, content_type, content_id, user_type and
// language_code. Both write endpoints answer 200, as seed 000 shows; an
// Idempotency-Key header makes a write safe to retry.
//
// # Listings
//
// Listings answer {count, next, previous, results}; count is exact.
// page_size (or limit) defaults to DefaultPageSize and is capped at
// MaxPageSize. ?page=N asks for a page by number (seed 000's own links
// are "?page=2"); every page links the next one and the previous one.
// next carries the next page's number and a keyset cursor, so following
// it is as fast at any depth as the first page; previous asks for the
// page before by number. Page numbers are resolved by the kit
// (httpapi.PageByNumber) at any depth: page N is what following next N-1
// times from the first page gives, found with one indexed read however
// deep it is (parley.PageRequest.Offset); a page past the end is empty,
// with the count. Links are relative, or start with the kit's
// BaseURL when it is set; they never follow the Host header. A cursor
// that was altered is 400.
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
// (object), item_object, message_set (its newest Options.MessageSetSize
// messages, oldest first; each {id, message_content, user_type,
// content_type, content_id, content_object, created_date}),
// conversation_type and last_message_date, and also item_content, subject,
// status, created_date, modified_date and unread_count (the caller's unread
// messages; a seller's or integration's is the data source's).
//
// The public listings show the channel of Options.PublicChannel, or, when
// it is empty, of the required channel query parameter. Their users are
// bare ids; user objects carry only id and first_name and data source
// objects only pk, name, slug, title and is_active: no email address or
// phone number is ever part of a public answer.
//
// # Errors
//
// Errors have Django REST framework's shapes; the kit sorts every error
// into a problem (httpapi.Classify) and this package words it:
//
//	400 {"field": ["sentence", ...], ...}                  invalid input, one key per field
//	400 {"detail": "The request body is not valid JSON (error at byte N)."}
//	400 ["Conversation already exists"]                    parley.ErrConversationExists
//	400 {"non_field_errors": ["DataSource can't reply to a review."]}  parley.ErrReviewReply
//	400 {"non_field_errors": ["A data source can only start message conversations."]}  parley.ErrSellerStart
//	400 {"non_field_errors": ["The conversation is closed."]}  parley.ErrConversationClosed
//	400 {"cursor": ["Invalid cursor."]}                    parley.ErrInvalidCursor
//	401 {"detail": "Authentication credentials were not provided."}  the Authenticator failed
//	403 {"detail": "You do not have permission to perform this action."}  parley.ErrPermission (the reason is logged)
//	404 {"detail": "Not found."}                           parley.ErrNotFound, unknown path or id, another channel
//	405 {"detail": "Method \"DELETE\" not allowed."}       with an Allow header
//	408 {"detail": "The request body did not arrive in time."}
//	413 {"detail": "The request body is too large."}
//	415 {"detail": "Unsupported media type \"text/plain\" in request."}
//	422 {"detail": "This Idempotency-Key was used for a different request."}
//	429 {"detail": "Too many requests are waiting: retry later."}  with Retry-After
//	503 {"detail": "..."}                                  cancelled, timed out, store closed
//	500 {"detail": "A server error occurred.", "request_id": "..."}
//
// Validation errors of the Service name Go fields (parley.FieldMessageContent
// is "Content"); fieldNames maps every one to seed 000's request field. No
// error text of the Service, the store or the World reaches a
// response: a 500 is logged with its request id, which the answer
// carries.
package conversationsv1
