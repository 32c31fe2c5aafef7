// Package chatv2 serves seed 002's e-commerce chat API (a Laravel app's
// /api/v2/chat/ routes) over a parley.Service, so that the clients of that
// API can move to Parley unchanged: customers talk with the seller of a
// product, one conversation per customer and product.
//
//	svc, err := parley.New(st, parley.Options{World: world}) // who sells a product, shop names
//	chat, err := chatv2.Dialect(svc, chatv2.Options{})
//	h, err := httpapi.New(httpapi.Config{Authenticator: auth}, chat)
//	mux.Handle("/api/v2/chat/", h)
//
// alone, or beside other dialects in the same httpapi.New; the kit (package
// httpapi) reads bodies strictly, bounds long polls, builds links from its
// BaseURL (relative without one) and logs. Its OpenAPI 3.1 description is
// served at /api/v2/chat/openapi.json without authentication.
//
// # Routes
//
//	GET  /api/v2/chat/conversations                         the caller's conversations, most recent first
//	GET  /api/v2/chat/messages/{conversation_id}            its messages, most recent first; marks it read
//	POST /api/v2/chat/create-conversation                   {product_id, title, message}
//	POST /api/v2/chat/insert-message                        {conversation_id, message}
//	GET  /api/v2/chat/get-new-messages/{conversation_id}/{last_message_id}[?wait=30]
//
// Every route needs an authenticated user (a customer) or seller; an
// integration is refused with 403, since the dialect has no field to name
// the party it would act for. A conversation of someone else is 403, an
// unknown one 404. Conversations are Parley message conversations about a
// product (conversation.TypeMessage with a product item); questions and
// reviews, which only seed 000 speaks of, are not listed.
//
// # Objects
//
// A conversation is {id, sender_id, receiver_id, title, sender_viewed,
// receiver_viewed, created_at, updated_at}: sender_id is the customer
// (user id), receiver_id the seller (data source id), title the subject.
// sender_viewed is 1 when the customer has no unread message, else 0, and
// receiver_viewed the same for the seller: each is 1 after that side
// writes (seed 002's rule) or reads. A message is {id, conversation_id,
// user_id, message, created_at}, user_id being the sender: the user, or
// for a seller's message its data source id. Times are Laravel's
// ("2024-01-18T07:52:37.092395Z"); ids that are decimal integers are
// written as JSON numbers.
//
// # Paging
//
// Listings answer in the shape of Laravel's cursor paginator:
//
//	{"current_page": 1, "data": [...], "path": "http://host/api/v2/chat/conversations",
//	 "per_page": 10, "next_cursor": "…", "next_page_url": "…?cursor=…",
//	 "prev_cursor": null, "prev_page_url": null}
//
// The pages are keyset cursors, stable while messages arrive: follow
// next_page_url (null on the last page). For clients written against a
// numbered paginator, ?page=N is accepted too, at any depth, and answers
// with current_page: page N is what following next_page_url N-1 times
// from the first page gives, found with one indexed read however deep it
// is (parley.PageRequest.Offset); a page past the end is empty. per_page sets the page size (default 10, at most 100).
// There is no total and no previous link.
//
// # Creating a conversation
//
// create-conversation asks the program's Catalog (by default the Service's
// World: the product's parley.ItemInfo.DataSourceID) who sells product_id and
// starts the conversation with that data source; it answers {result: true,
// message: "Conversation created", conversation_id, shop_name, shop_logo,
// title}, shop_name being "In House Product" for the marketplace's own
// products. Seed 002 allows one conversation per product and customer: a
// second create does not fail, its message is added to the existing
// conversation and the answer names that conversation, with message
// "Message added to the existing conversation" and the existing title.
//
// insert-message answers with the created message in a collection,
// {"data": [message]}, as Laravel resource collections are written;
// get-new-messages answers {"data": [...]} as well.
//
// # Waiting for new messages
//
// get-new-messages returns the conversation's messages with an id greater
// than last_message_id, most recent first, at most 100: the oldest 100
// when more are new, so a client that goes on from the newest id it got
// misses nothing. Any id works, with one indexed read: 0 (all of them), a
// message of another conversation, or one past every message (even past
// the largest id), which answers 200 with an empty list, not 404. It
// accepts ?wait=N: with no new message it waits up to N seconds (capped by
// the kit's WaitLimits, 30 s by default; bounded per actor and in all,
// beyond which it is 429 with Retry-After) and answers as soon as one is posted,
// or with {"data": []} when the time is up. Waiting costs no store query
// while nothing is posted (parley.Service.Wait). It does not mark messages
// read; viewing messages/{conversation_id} does.
//
// # Errors
//
// Errors are Laravel's JSON with seed 002's result flag:
// {"result": false, "message": "..."}; invalid input is 422 with
// {"errors": {"message": ["The message field is required."]}}, a malformed
// JSON body 400, an unauthenticated request 401 ("Unauthenticated."), a
// closed conversation 409. Nothing is written by a rejected request. An
// Idempotency-Key header makes the POSTs safe to retry.
package chatv2
