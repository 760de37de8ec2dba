package tracker_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// TestFormats: what people write in descriptions survives each tracker's
// format and back — headings, lists, emphasis, code, links.
func TestFormats(t *testing.T) {
	cases := []struct{ name, md string }{
		{"paragraphs", "First line.\n\nSecond paragraph."},
		{"emphasis", "Some **bold**, _italic_ and `code`."},
		{"heading", "## Acceptance\n\nIt works."},
		{"bullets", "- one\n- **two**\n- three"},
		{"numbers", "1. first\n2. second"},
		{"link", "See [the spec](https://example.com/spec)."},
		{"code block", "```apex\nSystem.debug('hi');\n```"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.md, tracker.ADFToMarkdown(tracker.MarkdownToADF(c.md)), "ADF")
			require.Equal(t, c.md, tracker.HTMLToMarkdown(tracker.MarkdownToHTML(c.md)), "HTML")
			require.Equal(t, c.md, tracker.WikiToMarkdown(tracker.MarkdownToWiki(c.md)), "wiki markup")
		})
	}
}

// TestADFShapes: the ADF Trellis writes is a version 1 doc of the node
// types Jira documents, and Jira's own nodes (mentions, cards) read back
// as text.
func TestADFShapes(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(tracker.MarkdownToADF("Hello **you**"), &doc))
	require.Equal(t, "doc", doc["type"])
	require.EqualValues(t, 1, doc["version"])
	para := doc["content"].([]any)[0].(map[string]any)
	require.Equal(t, "paragraph", para["type"])
	bold := para["content"].([]any)[1].(map[string]any)
	require.Equal(t, "strong", bold["marks"].([]any)[0].(map[string]any)["type"])

	jira := `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"mention","attrs":{"id":"1","text":"@Pat"}},{"type":"text","text":" see "},{"type":"inlineCard","attrs":{"url":"https://x.test/a"}}]},{"type":"panel","content":[{"type":"paragraph","content":[{"type":"text","text":"Note"}]}]}]}`
	require.Equal(t, "@Pat see https://x.test/a\n\nNote", tracker.ADFToMarkdown(json.RawMessage(jira)))
	require.Equal(t, "", tracker.ADFToMarkdown(nil))
	require.Equal(t, "plain", tracker.ADFToMarkdown(json.RawMessage(`"plain"`)))
}
