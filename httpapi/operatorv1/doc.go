// Package operatorv1 is the HTTP dialect of a marketplace's operators
// (trust and safety staff), served on the kit of package httpapi beside
// the other dialects. Its Authenticator returns a parley.Operator actor;
// any other actor is refused (403), and an operator sees only its own
// channel: a report, conversation or message of another channel is not
// found (404). Every rule is the Service's (Service.Reports, GetReport,
// ResolveReport, Messages, Hide, Unhide, Audit); this package only speaks JSON.
//
// Routes, below the kit's Prefix:
//
//	GET  /operator/v1/reports/                                  the moderation queue, oldest first: state, reason, page_size, cursor
//	GET  /operator/v1/reports/{id}/                             one report
//	POST /operator/v1/reports/{id}/resolve/                     {"outcome": "dismissed"|"actioned", "note": "..."}
//	GET  /operator/v1/conversations/{id}/messages/              a conversation's messages, newest first, hidden ones too: page_size, cursor
//	POST /operator/v1/conversations/{id}/hide/                  hide a public conversation: {"reason": "..."}
//	POST /operator/v1/conversations/{id}/unhide/                show it again: {"reason": "..."}
//	POST /operator/v1/conversations/{id}/messages/{message}/hide/    hide a message: {"reason": "..."}
//	POST /operator/v1/conversations/{id}/messages/{message}/unhide/  show it again: {"reason": "..."}
//	GET  /operator/v1/audit/                                    the audit trail, oldest first: conversation, page_size, cursor
//	GET  /operator/v1/people/{kind}/{id}/export/                everything stored about a user or datasource (parley.PersonalData)
//	POST /operator/v1/people/{kind}/{id}/erase/                 erase their personal data: {"reason": "..."}; again: zero counts
//	GET  /operator/v1/openapi.json                              this API's OpenAPI 3.1 description (no authentication)
//
// JSON is snake_case as in seed 000. Listings are keyset-paged:
// {"next": link or null, "results": [...]}, following next until it is
// null. Errors are seed 000's: {"field": ["sentence", ...]} for invalid
// input, {"detail": "..."} otherwise; a resolved report is 409, a store
// without moderation 501.
package operatorv1
