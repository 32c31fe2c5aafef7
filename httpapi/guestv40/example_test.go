package guestv40_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
	"github.com/parleyhq/parley/store/memory"
)

// A guest asks the front desk for towels, in Portuguese; the front desk
// reads it in English.
func Example() {
	st := memory.New()
	defer st.Close()
	opts := parley.DefaultOptions()
	opts.Now = func() time.Time { return time.Date(2025, 1, 18, 7, 52, 37, 92395000, time.UTC) }
	var n byte
	opts.NewCode = func() (uuid.UUID, error) { // predictable codes for the example
		n++
		return uuid.UUID{0x01, 0x94, 0x78, 0x5c, 0x7e, 0x7c, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, n}, nil
	}
	opts.Translator = parley.TranslatorFunc(func(_ context.Context, text, from, to string) (string, error) {
		if text == "Pode trazer toalhas?" && to == "en" {
			return "Can you bring towels?", nil
		}
		return "", errors.New("no translation")
	})
	svc, err := parley.New(st, opts)
	if err != nil {
		panic(err)
	}
	guest, err := guestv40.Dialect(svc, guestv40.Options{
		Directory: &guestv40.StaticDirectory{
			Outlets: map[string]guestv40.Outlet{"1": {Name: "Front desk", PropertyCode: "HTL-1", ServiceCenterName: "Reception"}},
			Guests:  map[string]guestv40.Guest{"1001": {FirstName: "Ana", LastName: "Lima", LanguageCode: "pt", RoomNumber: "214"}},
		},
		DefaultOutlet: func(context.Context, string, string) (string, error) { return "1", nil }, // the first outlet
	})
	if err != nil {
		panic(err)
	}
	// The program authenticates its callers: a guest and the front desk.
	actors := map[string]parley.Actor{"Token guest-1001": parley.Guest("1", "1001"), "Token frontdesk": parley.Seller("1", "1")}
	h, err := httpapi.New(httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
			if a, ok := actors[r.Header.Get("Authorization")]; ok {
				return a, nil
			}
			return parley.Actor{}, errors.New("unknown token")
		}),
	}, guest)
	if err != nil {
		panic(err)
	}

	// Requests are served in process here; a program mounts h on its server.
	call := func(method, path, token, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out bytes.Buffer
		_ = json.Indent(&out, rec.Body.Bytes(), "", "  ")
		fmt.Println(rec.Code, strings.TrimSpace(out.String()))
	}

	call("POST", "/API/V40/Interactive/Messages/Conversations", "Token guest-1001",
		`{"message": "Pode trazer toalhas?", "conversationType": "guest", "outletCode": "", "orderCode": "", "sessionToken": "t-lbE5U33Y"}`)
	call("GET", "/API/V40/Interactive/Messages/Conversations/0194785c-7e7c-7000-8000-000000000001?sessionToken=desk-1&languageCode=en",
		"Token frontdesk", "")

	// Output:
	// 200 {
	//   "sessionToken": "t-lbE5U33Y",
	//   "responsesIncluded": "createConversationResponse",
	//   "responses": [
	//     {
	//       "createConversationResponse": {
	//         "content": {
	//           "conversation": {
	//             "code": "0194785c-7e7c-7000-8000-000000000001",
	//             "subject": "",
	//             "outletCode": "1",
	//             "orderCode": "",
	//             "outletName": "Front desk",
	//             "propertyCode": "HTL-1",
	//             "roomNumber": "214",
	//             "guestFirstName": "Ana",
	//             "guestLastName": "Lima",
	//             "guestLanguageCode": "pt",
	//             "conversationStatus": "open",
	//             "conversationType": "guest",
	//             "messages": [
	//               {
	//                 "createDate": "2025-01-18T07:52:37.0923950+00:00",
	//                 "code": "0194785c-7e7c-7000-8000-000000000002",
	//                 "isRead": false,
	//                 "serviceCenterName": "",
	//                 "messageType": "guest",
	//                 "content": "Pode trazer toalhas?",
	//                 "firstName": "Ana",
	//                 "lastName": "Lima",
	//                 "languageCode": "pt",
	//                 "isTranslated": false,
	//                 "conversationId": 1
	//               }
	//             ]
	//           }
	//         },
	//         "succeeded": true
	//       }
	//     }
	//   ],
	//   "status": "Success"
	// }
	// 200 {
	//   "sessionToken": "desk-1",
	//   "responsesIncluded": "getConversationResponse",
	//   "responses": [
	//     {
	//       "getConversationResponse": {
	//         "content": {
	//           "conversation": {
	//             "code": "0194785c-7e7c-7000-8000-000000000001",
	//             "subject": "",
	//             "outletCode": "1",
	//             "orderCode": "",
	//             "outletName": "Front desk",
	//             "propertyCode": "HTL-1",
	//             "roomNumber": "214",
	//             "guestFirstName": "Ana",
	//             "guestLastName": "Lima",
	//             "guestLanguageCode": "pt",
	//             "conversationStatus": "open",
	//             "conversationType": "guest",
	//             "messages": [
	//               {
	//                 "createDate": "2025-01-18T07:52:37.0923950+00:00",
	//                 "code": "0194785c-7e7c-7000-8000-000000000002",
	//                 "isRead": true,
	//                 "serviceCenterName": "",
	//                 "messageType": "guest",
	//                 "content": "Can you bring towels?",
	//                 "firstName": "Ana",
	//                 "lastName": "Lima",
	//                 "languageCode": "en",
	//                 "isTranslated": true,
	//                 "conversationId": 1
	//               }
	//             ]
	//           }
	//         },
	//         "succeeded": true
	//       }
	//     }
	//   ],
	//   "status": "Success"
	// }
}
