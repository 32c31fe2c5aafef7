// Package httpapi is Parley's HTTP kit: what every HTTP dialect that
// Parley speaks shares, written once. A dialect package (seed 000's
// conversationsv1, seed 002's chatv2, seed 001's guestv40, the
// operators' operatorv1) supplies only its routes, its request and
// response shapes and its error bodies; the kit owns the rest:
//
//   - authentication, through the program's Authenticator (request →
//     parley.Actor), and a route's own admission check;
//   - routing under a Prefix, 404 and 405 (with Allow) in the dialect's
//     words, paths matched without regard to case for dialects that ask;
//   - panics recovered as a logged 500;
//   - request bodies: a size limit (413), a time limit (408), an early end
//     (400), JSON media types only (415) unless the dialect takes forms as
//     well (Dialect.Forms), and strict decoding of one JSON object
//     (DecodeObject) or form (DecodeForm) into the same Object: repeated
//     names and invalid text are 400 naming the field;
//   - JSON responses, and links that start with Config.BaseURL or are
//     relative, never taken from the Host header;
//   - page numbers at any depth (PageByNumber, over
//     parley.PageRequest.Offset);
//   - long polls (Call.WaitMessages): bounded per actor and in all (429
//     with Retry-After), and coalesced, so that a message that wakes many
//     waiters costs one store read, not one each;
//   - request ids (X-Request-Id) and logs through the program's logger,
//     never with message content;
//   - one table from the Service's errors to problems (Classify), used by
//     every dialect, so a Service error never becomes a 500 in one dialect
//     only;
//   - a dialect's OpenAPI description, served as it is;
//   - read-your-writes across replicas: every request runs with a
//     store.Session at the position of its Parley-Consistency header
//     (ConsistencyHeader), and a write's response carries the position
//     after it, so that a client that sends it back sees its own writes
//     even when a store reads from replicas.
//
// A program mounts one Handler for any set of dialects; each renders the
// program's users, data sources and items from the Service's World
// (parley.Options.World):
//
//	svc, _ := parley.New(st, parley.Options{World: world})
//	conv, _ := conversationsv1.Dialect(svc, conversationsv1.Options{})
//	chat, _ := chatv2.Dialect(svc, chatv2.Options{})
//	api, err := httpapi.New(httpapi.Config{
//		Authenticator: httpapi.AuthenticatorFunc(myAuth), // request → parley.Actor
//		BaseURL:       "https://api.example.com",
//		Logger:        logger,
//	}, conv, chat)
//	mux.Handle("/", api)
//
// or one dialect alone, the same way.
//
// # Adding a dialect
//
// A dialect is a package under httpapi (importing the kit; the kit and
// the other dialects never import it) with:
//
//  1. A function that returns a *Dialect over a parley.Service: its Routes
//     (method, path below the Prefix, whether public, an Admit check of the
//     caller's kind, and Serve), its Fields (every parley.Field* constant
//     mapped to its wire name), its Render function (a Problem, with its
//     Code, Status, Message and Fields, as the dialect's error body), and
//     its OpenAPI description, embedded with go:embed.
//  2. Routes that read input with Call.Object (or Call.Body), ParseWait,
//     PageByNumber and Call.WaitMessages, call the Service with c.Actor,
//     and answer with Call.JSON; an error returned by Serve is answered
//     through Classify and Render.
//  3. A test that runs the shared suite, httpapi/internal/dialecttest, with
//     a harness saying how to start a conversation, post, list and wait in
//     the dialect; the suite checks every hardening rule of the kit
//     against it, and validates its responses against its OpenAPI
//     description.
//
// # Middleware
//
// Config.Middleware wraps every request after the request id is set. The
// ResponseWriter it sees records the status and runs hooks registered with
// BeforeWriteHeader just before the header is sent, so a middleware can
// add a header that depends on what a route did; it unwraps to the
// server's writer, so http.ResponseController flushes a stream and moves
// deadlines through it.
package httpapi
