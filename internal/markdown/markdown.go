// Package markdown renders user-written Markdown (requirement
// descriptions, comments, release notes) to HTML that is safe to put in a
// page: goldmark parses CommonMark with GitHub's tables, strikethrough,
// task lists and autolinks, and bluemonday keeps only harmless elements
// and attributes, so raw HTML and script in the text arrive inert.
package markdown

import (
	"bytes"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

var (
	once   sync.Once
	md     goldmark.Markdown
	policy *bluemonday.Policy
)

func setup() {
	// Raw HTML passes goldmark (like GitHub, people paste <details> or
	// <kbd>) and bluemonday then keeps only harmless elements and
	// attributes; without this, a paragraph starting with a tag vanishes.
	md = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	policy = bluemonday.UGCPolicy()
	policy.RequireNoFollowOnLinks(true)
	policy.AddTargetBlankToFullyQualifiedLinks(true)
	// Task-list checkboxes from GFM render read-only.
	policy.AllowAttrs("type").Matching(bluemonday.SpaceSeparatedTokens).OnElements("input")
	policy.AllowAttrs("checked", "disabled").OnElements("input")
	policy.AllowElements("kbd", "mark", "details", "summary")
}

// HTML renders src to sanitised HTML.
func HTML(src string) string {
	once.Do(setup)
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; show the text as text.
		return policy.Sanitize("<p>" + bluemonday.StrictPolicy().Sanitize(src) + "</p>")
	}
	return string(policy.SanitizeBytes(buf.Bytes()))
}
