package main

import (
	"embed"
	"io/fs"
	"net/http"
)

// demoFiles is the demo inbox page: plain HTML, CSS and a script, served
// as they are.
//
//go:embed demo/index.html demo/demo.css demo/demo.js
var demoFiles embed.FS

// demoHandler serves the demo inbox at /demo/. The page uses only the
// public HTTP API (seed 000's dialect and its event stream) with the demo
// tokens.
func demoHandler() http.Handler {
	sub, err := fs.Sub(demoFiles, "demo")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	files := http.StripPrefix("/demo/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
