package email

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// Contact is a party with the name and address the Recipients lookup gave
// for it.
type Contact struct {
	notify.Party
	Name    string
	Address string
}

// Data is what the templates render.
type Data struct {
	Notification notify.Notification
	// Kind is the kind of the notification's first event; Started reports
	// whether one of its events started the conversation and the
	// recipient has not read that first message yet.
	Kind    notify.Kind
	Started bool
	// Conversation and Messages are the notification's: the messages the
	// recipient has not read, oldest first.
	Conversation conversation.Conversation
	Messages     []message.Message
	Recipient    Contact
	// Sender is the party whose messages the notification is about.
	Sender Contact
	// Link is the link to the conversation (Config.Link), or "".
	Link string
}

// Templates render an email. Subject and Text are text/template templates;
// HTML is an html/template template, so that every value it prints is
// escaped. The rendered subject is trimmed of surrounding space and must
// not contain a line break (a *HeaderError): the function "oneline", which
// turns line breaks into spaces, is available to every template, and the
// default subject uses it on every value that comes from users.
type Templates struct {
	Subject *texttemplate.Template
	Text    *texttemplate.Template
	HTML    *htmltemplate.Template
}

// TemplateFuncs returns the functions the default templates use. Pass them
// to Funcs when parsing templates of your own that use them.
func TemplateFuncs() map[string]any {
	return map[string]any{"oneline": oneline}
}

// oneline replaces every run of line breaks and tabs in s with one space.
func oneline(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n' || r == '\t' || r == '\v' || r == '\f' || r == '\u2028' || r == '\u2029' || r == '\x00'
	}), " ")
}

const defaultSubject = `{{if .Started}}New conversation{{else if gt (len .Messages) 1}}{{len .Messages}} new messages{{else}}New message{{end}}` +
	`{{with .Sender.Name}} from {{oneline .}}{{end}}{{with .Conversation.Subject}}: {{oneline .}}{{end}}`

const defaultText = `Hello{{with .Recipient.Name}} {{.}}{{end}},

{{if .Started}}{{or .Sender.Name "Someone"}} started a conversation with you{{else}}{{or .Sender.Name "Someone"}} sent you {{if gt (len .Messages) 1}}{{len .Messages}} messages{{else}}a message{{end}}{{end}}{{with .Conversation.Subject}} about "{{oneline .}}"{{end}}.
{{range .Messages}}
{{.CreatedAt.UTC.Format "2006-01-02 15:04 MST"}}:
{{.Content}}
{{end}}{{with .Link}}
Read and reply: {{.}}
{{end}}`

const defaultHTML = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{with .Conversation.Subject}}{{.}}{{else}}New message{{end}}</title></head>
<body>
<p>Hello{{with .Recipient.Name}} {{.}}{{end}},</p>
<p>{{if .Started}}{{or .Sender.Name "Someone"}} started a conversation with you{{else}}{{or .Sender.Name "Someone"}} sent you {{if gt (len .Messages) 1}}{{len .Messages}} messages{{else}}a message{{end}}{{end}}{{with .Conversation.Subject}} about &ldquo;{{.}}&rdquo;{{end}}.</p>
{{range .Messages}}<div style="margin:1em 0">
<div style="color:#666;font-size:small">{{.CreatedAt.UTC.Format "2006-01-02 15:04 MST"}}</div>
<div style="white-space:pre-wrap">{{.Content}}</div>
</div>
{{end}}{{with .Link}}<p><a href="{{.}}">Read and reply</a></p>
{{end}}</body>
</html>
`

// DefaultTemplates returns the templates used for the fields of Templates
// that are nil.
func DefaultTemplates() Templates {
	return Templates{
		Subject: texttemplate.Must(texttemplate.New("subject").Funcs(TemplateFuncs()).Parse(defaultSubject)),
		Text:    texttemplate.Must(texttemplate.New("text").Funcs(TemplateFuncs()).Parse(defaultText)),
		HTML:    htmltemplate.Must(htmltemplate.New("html").Funcs(TemplateFuncs()).Parse(defaultHTML)),
	}
}

func (t Templates) withDefaults() Templates {
	d := DefaultTemplates()
	if t.Subject == nil {
		t.Subject = d.Subject
	}
	if t.Text == nil {
		t.Text = d.Text
	}
	if t.HTML == nil {
		t.HTML = d.HTML
	}
	return t
}

// render executes the templates on d.
func (t Templates) render(d Data) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err := t.Subject.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	subject = strings.TrimSpace(b.String())
	if err := checkHeader("Subject", subject); err != nil {
		return "", "", "", err
	}
	b.Reset()
	if err := t.Text.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	text = b.String()
	b.Reset()
	if err := t.HTML.Execute(&b, d); err != nil {
		return "", "", "", err
	}
	return subject, text, b.String(), nil
}
