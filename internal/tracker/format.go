package tracker

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/trellis-alm/trellis/internal/markdown"
)

// Descriptions and comments are Markdown in Trellis. Jira Cloud's v3 API
// takes the Atlassian Document Format (a JSON tree), Jira Data Center's
// v2 API wiki markup, Azure DevOps HTML, and GitHub Markdown.

// adfNode is one node of an Atlassian Document Format tree.
type adfNode struct {
	Type    string         `json:"type"`
	Version int            `json:"version,omitempty"`
	Text    string         `json:"text,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Marks   []adfMark      `json:"marks,omitempty"`
	Content []adfNode      `json:"content,omitempty"`
}

type adfMark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

var gm = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Linkify))

// MarkdownToADF converts Markdown to an ADF document.
func MarkdownToADF(md string) json.RawMessage {
	src := []byte(md)
	doc := gm.Parser().Parse(text.NewReader(src))
	root := adfNode{Type: "doc", Version: 1, Content: adfBlocks(doc, src)}
	if len(root.Content) == 0 {
		root.Content = []adfNode{}
	}
	b, _ := json.Marshal(root)
	return b
}

func adfBlocks(parent ast.Node, src []byte) []adfNode {
	var out []adfNode
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch x := n.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			if in := adfInline(n, src, nil); len(in) > 0 {
				out = append(out, adfNode{Type: "paragraph", Content: in})
			}
		case *ast.Heading:
			out = append(out, adfNode{Type: "heading", Attrs: map[string]any{"level": x.Level}, Content: adfInline(n, src, nil)})
		case *ast.List:
			t := "bulletList"
			if x.IsOrdered() {
				t = "orderedList"
			}
			var items []adfNode
			for li := n.FirstChild(); li != nil; li = li.NextSibling() {
				items = append(items, adfNode{Type: "listItem", Content: adfBlocks(li, src)})
			}
			out = append(out, adfNode{Type: t, Content: items})
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			var b strings.Builder
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				b.Write(seg.Value(src))
			}
			node := adfNode{Type: "codeBlock", Content: []adfNode{{Type: "text", Text: strings.TrimRight(b.String(), "\n")}}}
			if f, ok := n.(*ast.FencedCodeBlock); ok && f.Info != nil {
				node.Attrs = map[string]any{"language": string(f.Language(src))}
			}
			if node.Content[0].Text == "" {
				node.Content = nil
			}
			out = append(out, node)
		case *ast.Blockquote:
			out = append(out, adfNode{Type: "blockquote", Content: adfBlocks(n, src)})
		case *ast.ThematicBreak:
			out = append(out, adfNode{Type: "rule"})
		case *ast.HTMLBlock:
			var b strings.Builder
			for i := 0; i < x.Lines().Len(); i++ {
				seg := x.Lines().At(i)
				b.Write(seg.Value(src))
			}
			out = append(out, adfNode{Type: "paragraph", Content: []adfNode{{Type: "text", Text: strings.TrimSpace(b.String())}}})
		default:
			out = append(out, adfBlocks(n, src)...)
		}
	}
	return out
}

func adfInline(parent ast.Node, src []byte, marks []adfMark) []adfNode {
	var out []adfNode
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, adfNode{Type: "text", Text: s, Marks: append([]adfMark(nil), marks...)})
	}
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		switch x := n.(type) {
		case *ast.Text:
			add(string(x.Segment.Value(src)))
			if x.HardLineBreak() {
				out = append(out, adfNode{Type: "hardBreak"})
			} else if x.SoftLineBreak() {
				add(" ")
			}
		case *ast.String:
			add(string(x.Value))
		case *ast.CodeSpan:
			var b strings.Builder
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
			out = append(out, adfNode{Type: "text", Text: b.String(), Marks: append(append([]adfMark(nil), marks...), adfMark{Type: "code"})})
		case *ast.Emphasis:
			m := "em"
			if x.Level == 2 {
				m = "strong"
			}
			out = append(out, adfInline(n, src, append(append([]adfMark(nil), marks...), adfMark{Type: m}))...)
		case *extast.Strikethrough:
			out = append(out, adfInline(n, src, append(append([]adfMark(nil), marks...), adfMark{Type: "strike"}))...)
		case *ast.Link:
			out = append(out, adfInline(n, src, append(append([]adfMark(nil), marks...), adfMark{Type: "link", Attrs: map[string]any{"href": string(x.Destination)}}))...)
		case *ast.AutoLink:
			u := string(x.URL(src))
			out = append(out, adfNode{Type: "text", Text: string(x.Label(src)), Marks: append(append([]adfMark(nil), marks...), adfMark{Type: "link", Attrs: map[string]any{"href": u}})})
		case *ast.Image:
			out = append(out, adfNode{Type: "text", Text: string(x.Destination), Marks: append(append([]adfMark(nil), marks...), adfMark{Type: "link", Attrs: map[string]any{"href": string(x.Destination)}})})
		case *ast.RawHTML:
			for i := 0; i < x.Segments.Len(); i++ {
				seg := x.Segments.At(i)
				add(string(seg.Value(src)))
			}
		default:
			out = append(out, adfInline(n, src, marks)...)
		}
	}
	return out
}

// ADFToMarkdown converts an ADF document (or a plain string, which some
// fields still hold) to Markdown. Nodes it does not know keep their text.
func ADFToMarkdown(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var doc adfNode
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	var b strings.Builder
	adfWriteBlocks(&b, doc.Content, "")
	return strings.TrimSpace(b.String())
}

func adfWriteBlocks(b *strings.Builder, nodes []adfNode, indent string) {
	for i, n := range nodes {
		switch n.Type {
		case "paragraph":
			b.WriteString(indent + adfInlineText(n.Content) + "\n\n")
		case "heading":
			lvl := 1
			if f, ok := n.Attrs["level"].(float64); ok && f >= 1 && f <= 6 {
				lvl = int(f)
			}
			b.WriteString(indent + strings.Repeat("#", lvl) + " " + adfInlineText(n.Content) + "\n\n")
		case "bulletList", "orderedList":
			for j, li := range n.Content {
				marker := "- "
				if n.Type == "orderedList" {
					marker = strconv.Itoa(j+1) + ". "
				}
				var inner strings.Builder
				adfWriteBlocks(&inner, li.Content, "")
				lines := strings.Split(strings.TrimSpace(inner.String()), "\n")
				for k, l := range lines {
					if k == 0 {
						b.WriteString(indent + marker + l + "\n")
					} else if l != "" {
						b.WriteString(indent + strings.Repeat(" ", len(marker)) + l + "\n")
					}
				}
			}
			b.WriteString("\n")
		case "codeBlock":
			lang, _ := n.Attrs["language"].(string)
			b.WriteString(indent + "```" + lang + "\n" + adfPlain(n.Content) + "\n" + indent + "```\n\n")
		case "blockquote":
			var inner strings.Builder
			adfWriteBlocks(&inner, n.Content, "")
			for _, l := range strings.Split(strings.TrimSpace(inner.String()), "\n") {
				b.WriteString(indent + "> " + l + "\n")
			}
			b.WriteString("\n")
		case "rule":
			b.WriteString(indent + "---\n\n")
		default:
			if len(n.Content) > 0 {
				if isInline(n.Content[0].Type) {
					b.WriteString(indent + adfInlineText(n.Content) + "\n\n")
				} else {
					adfWriteBlocks(b, n.Content, indent)
				}
			} else if n.Text != "" {
				b.WriteString(indent + n.Text + "\n\n")
			}
		}
		_ = i
	}
}

func isInline(t string) bool {
	switch t {
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status":
		return true
	}
	return false
}

func adfPlain(nodes []adfNode) string {
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString(n.Text)
		b.WriteString(adfPlain(n.Content))
	}
	return b.String()
}

func adfInlineText(nodes []adfNode) string {
	var b strings.Builder
	for _, n := range nodes {
		switch n.Type {
		case "text":
			t := n.Text
			var href string
			for _, m := range n.Marks {
				switch m.Type {
				case "strong":
					t = "**" + t + "**"
				case "em":
					t = "_" + t + "_"
				case "code":
					t = "`" + t + "`"
				case "strike":
					t = "~~" + t + "~~"
				case "link":
					href, _ = m.Attrs["href"].(string)
				}
			}
			if href != "" {
				t = "[" + t + "](" + href + ")"
			}
			b.WriteString(t)
		case "hardBreak":
			b.WriteString("  \n")
		case "mention":
			s, _ := n.Attrs["text"].(string)
			b.WriteString(s)
		case "emoji":
			s, _ := n.Attrs["text"].(string)
			if s == "" {
				s, _ = n.Attrs["shortName"].(string)
			}
			b.WriteString(s)
		case "inlineCard":
			s, _ := n.Attrs["url"].(string)
			b.WriteString(s)
		default:
			b.WriteString(adfInlineText(n.Content))
		}
	}
	return b.String()
}

// MarkdownToHTML renders Markdown as the safe HTML Trellis shows.
func MarkdownToHTML(md string) string {
	if strings.TrimSpace(md) == "" {
		return ""
	}
	return strings.TrimSpace(markdown.HTML(md))
}

// HTMLToMarkdown converts a tracker's HTML (Azure DevOps descriptions and
// comments) to Markdown.
func HTMLToMarkdown(html string) string {
	if strings.TrimSpace(html) == "" {
		return ""
	}
	md, err := htmlConv.ConvertString(html)
	if err != nil {
		return strings.TrimSpace(tagRE.ReplaceAllString(html, ""))
	}
	return strings.TrimSpace(md)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// htmlConv writes the Markdown Trellis itself writes: _em_, **strong**,
// "-" bullets.
var htmlConv = converter.NewConverter(converter.WithPlugins(base.NewBasePlugin(),
	commonmark.NewCommonmarkPlugin(commonmark.WithEmDelimiter("_"), commonmark.WithStrongDelimiter("**"), commonmark.WithBulletListMarker("-"))))

// Jira wiki markup (Data Center's v2 API) ↔ Markdown, for what people
// write in descriptions: headings, lists, bold, italic, code, links.
var (
	mdLinkRE     = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	mdBoldRE     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	mdCodeRE     = regexp.MustCompile("`([^`]+)`")
	wikiLinkRE   = regexp.MustCompile(`\[([^|\]]+)\|([^\]]+)\]`)
	wikiBoldRE   = regexp.MustCompile(`(^|[\s(])\*([^*\s][^*]*[^*\s]|[^*\s])\*`)
	wikiCodeRE   = regexp.MustCompile(`\{\{([^}]+)\}\}`)
	wikiHeadRE   = regexp.MustCompile(`^h([1-6])\.\s+(.*)$`)
	mdHeadRE     = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	mdBulletRE   = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	mdNumberRE   = regexp.MustCompile(`^(\s*)\d+[.)]\s+(.*)$`)
	wikiBulletRE = regexp.MustCompile(`^([*#]+)\s+(.*)$`)
)

// MarkdownToWiki converts Markdown to Jira wiki markup.
func MarkdownToWiki(md string) string {
	var out []string
	inCode := false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			lang := strings.TrimPrefix(strings.TrimSpace(l), "```")
			if !inCode && lang != "" {
				out = append(out, "{code:"+lang+"}")
			} else {
				out = append(out, "{code}")
			}
			inCode = !inCode
			continue
		}
		if inCode {
			out = append(out, l)
			continue
		}
		if m := mdHeadRE.FindStringSubmatch(l); m != nil {
			l = "h" + strconv.Itoa(len(m[1])) + ". " + m[2]
		} else if m := mdBulletRE.FindStringSubmatch(l); m != nil {
			l = strings.Repeat("*", len(m[1])/2+1) + " " + m[2]
		} else if m := mdNumberRE.FindStringSubmatch(l); m != nil {
			l = strings.Repeat("#", len(m[1])/2+1) + " " + m[2]
		}
		l = mdCodeRE.ReplaceAllString(l, "{{$1}}")
		l = mdLinkRE.ReplaceAllString(l, "[$1|$2]")
		l = mdBoldRE.ReplaceAllString(l, "\x00$1\x00")
		l = strings.ReplaceAll(l, "\x00", "*")
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// WikiToMarkdown converts Jira wiki markup to Markdown.
func WikiToMarkdown(w string) string {
	var out []string
	inCode := false
	numbers := map[int]int{} // the next number of an ordered list, by depth
	for _, l := range strings.Split(strings.ReplaceAll(w, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "{code") || strings.HasPrefix(t, "{noformat") {
			if !inCode {
				lang := ""
				if i := strings.Index(t, ":"); i > 0 && strings.HasSuffix(t, "}") {
					lang = strings.TrimSuffix(t[i+1:], "}")
				}
				out = append(out, "```"+lang)
			} else {
				out = append(out, "```")
			}
			inCode = !inCode
			continue
		}
		if inCode {
			out = append(out, l)
			continue
		}
		if !wikiBulletRE.MatchString(t) {
			clear(numbers)
		}
		if m := wikiHeadRE.FindStringSubmatch(t); m != nil {
			n, _ := strconv.Atoi(m[1])
			l = strings.Repeat("#", n) + " " + m[2]
		} else if m := wikiBulletRE.FindStringSubmatch(t); m != nil {
			marker := "- "
			depth := len(m[1])
			if m[1][depth-1] == '#' {
				numbers[depth]++
				marker = strconv.Itoa(numbers[depth]) + ". "
			}
			for d := range numbers {
				if d > depth {
					delete(numbers, d)
				}
			}
			l = strings.Repeat("  ", depth-1) + marker + m[2]
		}
		l = wikiCodeRE.ReplaceAllString(l, "`$1`")
		l = wikiLinkRE.ReplaceAllString(l, "[$1]($2)")
		l = wikiBoldRE.ReplaceAllString(l, "$1**$2**")
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
