// Package markdown renders user-written Markdown (requirement
// descriptions, comments, release notes) to HTML that is safe to put in a
// page: goldmark parses CommonMark with GitHub's tables, strikethrough,
// task lists and autolinks, and bluemonday keeps only harmless elements
// and attributes, so raw HTML and script in the text arrive inert.
package markdown

import (
	"bytes"
	"net/url"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
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
	md = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe(),
		renderer.WithNodeRenderers(util.Prioritized(taskBoxRenderer{}, 1))))
	policy = bluemonday.UGCPolicy()
	policy.RequireNoFollowOnLinks(true)
	policy.AddTargetBlankToFullyQualifiedLinks(true)
	// Only what Markdown itself produces: no form controls (task-list
	// boxes are drawn as marks, below), and images only from Trellis
	// itself or inline, so a description cannot make every reader's
	// browser call another site (tracking pixels, internal addresses).
	policy.AllowElements("kbd", "mark", "details", "summary")
	policy.AllowAttrs("class").Matching(regexp.MustCompile(`^task(-done)?$`)).OnElements("span")
	// A fenced block's language stays, for highlighting and for trackers
	// that keep it (Azure DevOps descriptions are HTML).
	policy.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#-]+$`)).OnElements("code")
	policy.AllowDataURIImages()
	policy.RewriteSrc(func(u *url.URL) {
		if (u.Scheme == "" && u.Host == "") || u.Scheme == "data" {
			return
		}
		*u = url.URL{Path: OffsiteImage}
	})
}

// OffsiteImage stands in for an image from another site.
const OffsiteImage = "/static/offsite-image.svg"

// taskBoxRenderer draws GFM task-list boxes as marks rather than the
// disabled <input> goldmark writes, so no form control reaches a page.
type taskBoxRenderer struct{}

func (taskBoxRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(extast.KindTaskCheckBox, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if n.(*extast.TaskCheckBox).IsChecked {
			_, _ = w.WriteString(`<span class="task-done" role="img" aria-label="done">☑</span> `)
		} else {
			_, _ = w.WriteString(`<span class="task" role="img" aria-label="not done">☐</span> `)
		}
		return ast.WalkContinue, nil
	})
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
