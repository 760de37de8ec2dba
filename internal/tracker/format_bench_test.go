package tracker_test

import (
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// bigDescription is a long story description: headings, lists, code and
// links, about 20 KB.
var bigDescription = strings.Repeat("## Acceptance\n\nManagers **approve** discounts over _10%_; see [the spec](https://example.com/spec).\n\n- one\n- two `code`\n- three\n\n```apex\nSystem.debug('x');\n```\n\n", 120)

func BenchmarkMarkdownToADF(b *testing.B) {
	b.SetBytes(int64(len(bigDescription)))
	for b.Loop() {
		tracker.MarkdownToADF(bigDescription)
	}
}

func BenchmarkADFToMarkdown(b *testing.B) {
	adf := tracker.MarkdownToADF(bigDescription)
	b.SetBytes(int64(len(adf)))
	for b.Loop() {
		tracker.ADFToMarkdown(adf)
	}
}

func BenchmarkHTMLToMarkdown(b *testing.B) {
	html := tracker.MarkdownToHTML(bigDescription)
	b.SetBytes(int64(len(html)))
	for b.Loop() {
		tracker.HTMLToMarkdown(html)
	}
}
