// Package guestv40 serves seed 001's guest messaging API (the V40
// Interactive Messages conversations of a hospitality platform: guests
// write to a property's outlets) over a parley.Service. An outlet is a
// Parley data source, a guest a Parley user, an order an order item.
//
//	svc, err := parley.New(st, parley.Options{World: world}) // outlets, guests, orders
//	guest, err := guestv40.Dialect(svc, guestv40.Options{
//		DefaultOutlet: firstOutlet, // the outlet of a create without outletCode
//	})
//	h, err := httpapi.New(httpapi.Config{Authenticator: auth}, guest)
//	mux.Handle("/", h)
//
// alone, or beside other dialects in the same httpapi.New (mount it where
// every spelling of the path reaches it: the kit matches the path without
// regard to case, an http.ServeMux in front of it does not). Its OpenAPI
// 3.1 description is served at /API/V40/Interactive/Messages/openapi.json
// without authentication.
//
// # Routes
//
//	POST /API/V40/Interactive/Messages/Conversations                  create (seed 001)
//	GET  /API/V40/Interactive/Messages/Conversations/{code}           the conversation and its messages
//	POST /API/V40/Interactive/Messages/Conversations/{code}/Messages  add a message
//	PUT  /API/V40/Interactive/Messages/Conversations/{code}/Status    close or reopen: {conversationStatus: "closed" or "open", sessionToken}
//
// The path is matched without regard to case, as ASP.NET matches it.
// {code} is the conversation's code (a UUID) or its numeric id (the
// messages' conversationId). A user creates conversations; users and
// sellers (the outlet's staff) read them and add messages. Someone else's
// conversation is 403; an unknown one 404.
//
// # Creating a conversation
//
// The request is seed 001's {message, conversationType, outletCode,
// orderCode, sessionToken}, field names matched without regard to case,
// plus an optional languageCode (the language the message is written in;
// default: the guest's, from the Directory). sessionToken is required and
// sent back. conversationType is "" or "guest", and says what the
// Authenticator already says: a guest's messages are written as the guest
// (Parley user type "guest", and the conversation reads as
// conversationType "guest"), a registered user's as that user, and a
// registered user who sends "guest" is refused with 400 on
// conversationType. A message shows the names of the user who wrote it
// (from the Directory). An empty outletCode selects Options.DefaultOutlet's
// outlet (seed 001: "the first available outlet"), resolved here before
// the Service is called; without DefaultOutlet, outletCode is required.
// An outletCode the Directory does not know is 400. orderCode links the
// conversation to that order (item "orderitem").
//
// # Request bodies
//
// The write requests are JSON (application/json, text/json) or, as seed
// 001 lists too, application/x-www-form-urlencoded forms with the same
// field names, matched without regard to case in both:
//
//	message=Can+I+get+extra+towels%3F&conversationType=guest&sessionToken=t-lbE5U33Y
//
// A form is read by the kit into the same fields as JSON (every value a
// string; outletCode and orderCode take their digits), so it is validated
// alike and fails with the same errors; the kit's rules for bodies hold
// for forms too: the size and time limits, a name given twice (in any
// case) and invalid UTF-8 are 400 naming the field, a malformed %-escape
// is 400. Any other media type is 415.
//
// Parley keeps one conversation per guest, outlet and order: creating it
// again adds the message to the existing conversation and answers with
// it, so a client that creates twice loses nothing.
//
// # Responses
//
// Every answer is seed 001's envelope: {sessionToken, responsesIncluded,
// responses: [{createConversationResponse: {content: {conversation},
// succeeded: true}}], status: "Success"}; the GET names its response
// getConversationResponse and the message POST createMessageResponse. A
// conversation carries seed 001's fields; code is its UUID,
// conversationStatus "open" or "closed", and messages come oldest first.
// A message's messageType is "guest" or "outlet" (who wrote it); isRead
// says whether its receiver has read it; serviceCenterName is the
// outlet's, on the outlet's messages; firstName and lastName are the
// guest's, on the guest's. Fields the program owns (outletName,
// propertyCode, roomNumber, serviceCenterName, guest names and language)
// come from its Directory. Times are .NET's round-trip format
// ("2025-01-18T07:52:37.0923950+00:00").
//
// # Strings
//
// Every field that seed 001 gives as a string is a JSON string, never
// null, for guests, registered users and outlets alike: where there is no
// value it is "" (a strictly typed client then reads an empty string, as
// .NET's model would hold for an unset value it serializes). Per field:
//
//	subject            the conversation's subject; "" (seed 001 creates without one)
//	orderCode          the order the conversation is about; "" when none
//	outletName         Directory; "" when it does not know the outlet
//	propertyCode       Directory; "" when it does not know the outlet
//	roomNumber         Directory; "" when it does not know the guest
//	guestFirstName     Directory, else the name stored when the conversation started; else ""
//	guestLastName      the same
//	guestLanguageCode  Directory, else the language of the first message; else ""
//	conversationType   "guest" when a guest wrote the first message, else ""
//	serviceCenterName  the outlet's (Directory) on an outlet's message; "" on a guest's
//	firstName          the guest's on a guest's message; "" on an outlet's (Parley does
//	lastName           not know which staff member wrote it)
//	languageCode       the language the content is in (the reader's when translated);
//	                   "" when the writer gave none and none was known
//
// outletCode, code, conversationStatus, messageType, content and
// createDate always have a value.
//
// A response carries the conversation's newest messages (pageSize, 50 by
// default, at most 100); content.nextPageToken, when present, continues
// with older ones (?pageToken=). Reading the newest messages with the GET
// marks them read for the caller.
//
// # Translation
//
// Messages are stored as written, with their language. A reader asks for
// another language with ?languageCode=en or an Accept-Language header;
// messages written in another language are then translated by the
// Service's Translator (parley.Options.Translator) and carry
// isTranslated true and the reader's languageCode. A message the
// Translator fails on is shown as written: a failing translator never
// blocks a message.
//
// # Errors
//
// A failure is the envelope with status "Failure", no responses, a
// message and, for invalid input, the wrong fields: {"sessionToken": "…",
// "responsesIncluded": "", "responses": [], "status": "Failure",
// "message": "The request is invalid.", "errors": {"message": ["The
// message field is required."]}}. Invalid input (malformed JSON, a field
// of the wrong type, a missing sessionToken, an empty or too long
// message, a name given twice, invalid UTF-8) is 400, no or bad
// credentials 401, someone else's conversation 403 (its reason logged),
// an unknown one 404, a closed one 409. Nothing is written by a
// rejected request. An Idempotency-Key header makes the POSTs safe to
// retry.
//
// # Finding a conversation by code
//
// A path names a conversation by its code (or by its numeric id, the
// messages' conversationId). A code is found with one indexed lookup
// (parley.Service.GetByCode), however old the conversation.
package guestv40
