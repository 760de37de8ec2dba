// Package web holds Trellis's pages: templ components with their view
// models, and the static assets (CSS, htmx, icons) embedded in the binary so
// nothing is fetched from a CDN.
package web

import "embed"

// Static holds the files served under /static/.
//
//go:embed static
var Static embed.FS
