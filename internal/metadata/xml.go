package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Node is an XML element: metadata files are trees of elements with either
// text or child elements. Text that sits between child elements (mixed
// content, which Salesforce metadata does not use) is kept as a child with
// an empty Name so that nothing is silently dropped.
type Node struct {
	Name     string // local name, prefix removed
	Attrs    []Attr // attributes other than namespace declarations
	NS       string // the default namespace declared on this element, if any
	Children []*Node
	Text     string // decoded text of a leaf element (or of a text child)
}

// Attr is one attribute.
type Attr struct {
	Name, Value string
}

// XML limits: metadata files are large (objects with thousands of fields)
// but never deep.
const (
	maxXMLDepth = 256
	maxXMLSize  = 256 << 20
)

// ErrDTD is returned for documents with a DOCTYPE: Salesforce metadata has
// none, and DTDs are how entity-expansion and external-entity attacks work.
var ErrDTD = errors.New("XML with a DOCTYPE (DTD) is refused")

// XMLError is a parse failure at a byte offset.
type XMLError struct {
	Offset int
	Msg    string
	Err    error
}

func (e *XMLError) Error() string { return fmt.Sprintf("XML offset %d: %s", e.Offset, e.Msg) }
func (e *XMLError) Unwrap() error { return e.Err }

// ParseXML parses a metadata XML document into its root element. It refuses
// DTDs, entity declarations, unknown entities, documents over 256 MiB or
// nested more than 256 deep, and malformed XML.
func ParseXML(data []byte) (*Node, error) {
	if len(data) > maxXMLSize {
		return nil, &XMLError{Msg: "document too large"}
	}
	p := &xmlParser{data: data}
	return p.document()
}

type xmlParser struct {
	data  []byte
	pos   int
	names []string // element names seen, shared rather than copied each time
	buf   bytes.Buffer
	slab  []Node  // nodes are allocated a batch at a time
	stack []*Node // children of the open elements, copied out when each closes
}

func (p *xmlParser) node(name, text string) *Node {
	if len(p.slab) == 0 {
		p.slab = make([]Node, 32)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.Name, n.Text = name, text
	return n
}

func (p *xmlParser) fail(msg string, args ...any) error {
	return &XMLError{Offset: p.pos, Msg: fmt.Sprintf(msg, args...)}
}

func (p *xmlParser) document() (*Node, error) {
	p.data = bytes.TrimPrefix(p.data, []byte("\xef\xbb\xbf"))
	var root *Node
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			break
		}
		if p.data[p.pos] != '<' {
			return nil, p.fail("text outside the root element")
		}
		switch {
		case p.hasPrefix("<?"):
			if err := p.skipUntil("?>"); err != nil {
				return nil, err
			}
		case p.hasPrefix("<!--"):
			if err := p.skipUntil("-->"); err != nil {
				return nil, err
			}
		case p.hasPrefix("<!"):
			return nil, &XMLError{Offset: p.pos, Msg: ErrDTD.Error(), Err: ErrDTD}
		default:
			if root != nil {
				return nil, p.fail("more than one root element")
			}
			n, err := p.element(0)
			if err != nil {
				return nil, err
			}
			root = n
		}
	}
	if root == nil {
		return nil, p.fail("no root element")
	}
	return root, nil
}

func (p *xmlParser) hasPrefix(s string) bool { return bytes.HasPrefix(p.data[p.pos:], []byte(s)) }

func (p *xmlParser) skipSpace() {
	for p.pos < len(p.data) && isSpace(p.data[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *xmlParser) skipUntil(end string) error {
	i := bytes.Index(p.data[p.pos:], []byte(end))
	if i < 0 {
		return p.fail("unterminated %q", end)
	}
	p.pos += i + len(end)
	return nil
}

func (p *xmlParser) name() (string, error) {
	b, err := p.nameBytes()
	if err != nil {
		return "", err
	}
	// Metadata files repeat a dozen names thousands of times.
	for _, n := range p.names {
		if string(b) == n {
			return n, nil
		}
	}
	n := string(b)
	if !validQName(n) {
		return "", p.fail("%q is not an XML name", n)
	}
	if len(p.names) < 64 {
		p.names = append(p.names, n)
	}
	return n, nil
}

func (p *xmlParser) nameBytes() ([]byte, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if isSpace(c) || c == '>' || c == '/' || c == '=' || c == '<' {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return nil, p.fail("expected a name")
	}
	return p.data[start:p.pos], nil
}

// validQName reports whether n is an XML name with at most one prefix:
// ASCII is checked by the XML rules, other characters are allowed.
func validQName(n string) bool {
	prefix, local, found := strings.Cut(n, ":")
	if !found {
		return validNCName(n)
	}
	return validNCName(prefix) && validNCName(local)
}

func validNCName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 0x80, c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (c == '-' || c == '.' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return true
}

func localName(n string) string {
	if i := strings.IndexByte(n, ':'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// element parses one element starting at '<'.
func (p *xmlParser) element(depth int) (*Node, error) {
	if depth > maxXMLDepth {
		return nil, p.fail("elements nested more than %d deep", maxXMLDepth)
	}
	p.pos++ // '<'
	qname, err := p.name()
	if err != nil {
		return nil, err
	}
	n := p.node(localName(qname), "")
	selfClosing, err := p.attributes(n)
	if err != nil {
		return nil, err
	}
	if selfClosing {
		return n, nil
	}
	// The text since the last child: most often one run without entities,
	// kept as a slice of the input; copied only when it has to be decoded
	// or joined (entities, CDATA, comments in between).
	var text textRun
	base := len(p.stack)
	for {
		if p.pos >= len(p.data) {
			return nil, p.fail("element <%s> is not closed", qname)
		}
		if p.data[p.pos] != '<' {
			if err := p.text(&text); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case p.hasPrefix("</"):
			p.pos += 2
			end, err := p.nameBytes()
			if err != nil {
				return nil, err
			}
			if string(end) != qname {
				return nil, p.fail("</%s> closes <%s>", end, qname)
			}
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != '>' {
				return nil, p.fail("expected > after </%s", end)
			}
			p.pos++
			if text.present {
				// The whole text of a leaf, or trailing mixed content.
				if len(p.stack) == base {
					n.Text = string(text.bytes())
				} else if len(bytes.TrimSpace(text.bytes())) > 0 {
					p.stack = append(p.stack, p.node("", string(text.bytes())))
				}
			}
			if len(p.stack) > base {
				n.Children = append([]*Node(nil), p.stack[base:]...)
				clear(p.stack[base:])
				p.stack = p.stack[:base]
			}
			return n, nil
		case p.hasPrefix("<!--"):
			if err := p.skipUntil("-->"); err != nil {
				return nil, err
			}
		case p.hasPrefix("<![CDATA["):
			p.pos += 9
			i := bytes.Index(p.data[p.pos:], []byte("]]>"))
			if i < 0 {
				return nil, p.fail("unterminated CDATA")
			}
			text.add(p.data[p.pos:p.pos+i], false)
			p.pos += i + 3
		case p.hasPrefix("<!"):
			return nil, &XMLError{Offset: p.pos, Msg: ErrDTD.Error(), Err: ErrDTD}
		case p.hasPrefix("<?"):
			if err := p.skipUntil("?>"); err != nil {
				return nil, err
			}
		default:
			if text.present && len(bytes.TrimSpace(text.bytes())) > 0 {
				p.stack = append(p.stack, p.node("", string(text.bytes())))
			}
			text = textRun{}
			c, err := p.element(depth + 1)
			if err != nil {
				return nil, err
			}
			p.stack = append(p.stack, c)
		}
	}
}

// textRun is the text of an element between two children.
type textRun struct {
	present bool
	run     []byte        // the text while it is one plain run of the input
	joined  *bytes.Buffer // once it is not
}

func (t *textRun) add(b []byte, decoded bool) {
	switch {
	case !t.present && !decoded:
		t.run = b
	case t.joined == nil:
		t.joined = bytes.NewBuffer(append([]byte(nil), t.run...))
		fallthrough
	default:
		t.joined.Write(b)
	}
	t.present = true
}

func (t *textRun) bytes() []byte {
	if t.joined != nil {
		return t.joined.Bytes()
	}
	return t.run
}

func (p *xmlParser) attributes(n *Node) (selfClosing bool, err error) {
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return false, p.fail("unterminated tag <%s", n.Name)
		}
		switch p.data[p.pos] {
		case '>':
			p.pos++
			return false, nil
		case '/':
			if !p.hasPrefix("/>") {
				return false, p.fail("stray / in tag <%s", n.Name)
			}
			p.pos += 2
			return true, nil
		}
		name, err := p.name()
		if err != nil {
			return false, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '=' {
			return false, p.fail("attribute %s has no value", name)
		}
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.data) || (p.data[p.pos] != '"' && p.data[p.pos] != '\'') {
			return false, p.fail("attribute %s value is not quoted", name)
		}
		q := p.data[p.pos]
		p.pos++
		end := bytes.IndexByte(p.data[p.pos:], q)
		if end < 0 {
			return false, p.fail("unterminated value of attribute %s", name)
		}
		raw := p.data[p.pos : p.pos+end]
		p.pos += end + 1
		var v bytes.Buffer
		if err := p.decode(&v, raw); err != nil {
			return false, err
		}
		switch {
		case name == "xmlns":
			n.NS = v.String()
		case strings.HasPrefix(name, "xmlns:"):
		default:
			n.Attrs = append(n.Attrs, Attr{Name: localName(name), Value: v.String()})
		}
	}
}

func (p *xmlParser) text(t *textRun) error {
	end := bytes.IndexByte(p.data[p.pos:], '<')
	if end < 0 {
		end = len(p.data) - p.pos
	}
	raw := p.data[p.pos : p.pos+end]
	p.pos += end
	if bytes.IndexByte(raw, '&') < 0 {
		t.add(raw, false)
		return nil
	}
	p.buf.Reset()
	if err := p.decode(&p.buf, raw); err != nil {
		return err
	}
	t.add(p.buf.Bytes(), true)
	return nil
}

// decode appends raw with entity and character references resolved. Only
// the five predefined entities and numeric references exist here.
func (p *xmlParser) decode(buf *bytes.Buffer, raw []byte) error {
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '&')
		if i < 0 {
			buf.Write(raw)
			return nil
		}
		buf.Write(raw[:i])
		raw = raw[i:]
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 || semi > 12 {
			return p.fail("bare & in text or attribute")
		}
		ent := string(raw[1:semi])
		raw = raw[semi+1:]
		switch ent {
		case "lt":
			buf.WriteByte('<')
		case "gt":
			buf.WriteByte('>')
		case "amp":
			buf.WriteByte('&')
		case "quot":
			buf.WriteByte('"')
		case "apos":
			buf.WriteByte('\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				return p.fail("unknown entity &%s;", ent)
			}
			buf.WriteRune(r)
		}
	}
	return nil
}

func charRef(ent string) (rune, bool) {
	if !strings.HasPrefix(ent, "#") {
		return 0, false
	}
	var n uint64
	var err error
	if strings.HasPrefix(ent, "#x") || strings.HasPrefix(ent, "#X") {
		n, err = strconv.ParseUint(ent[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(ent[1:], 10, 32)
	}
	if err != nil || n == 0 || n > utf8.MaxRune {
		return 0, false
	}
	return rune(n), true
}

// Child returns the first child element named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ChildText returns the text of the first child element named name.
func (n *Node) ChildText(name string) string {
	if c := n.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// Canonical returns n in canonical form: namespace declarations and
// comments dropped, attributes sorted, whitespace between elements dropped,
// line endings normalised. Two documents Salesforce treats as the same
// have the same canonical form. With unordered, the order of n's own
// children is ignored too.
func (n *Node) Canonical(unordered bool) []byte {
	var b bytes.Buffer
	n.writeCanonical(&b, unordered)
	return b.Bytes()
}

func (n *Node) writeCanonical(b *bytes.Buffer, unordered bool) {
	if n.Name == "" {
		// Mixed content: the whitespace around it is layout, not data.
		escapeText(b, normalizeNewlines(strings.TrimSpace(n.Text)))
		return
	}
	b.WriteByte('<')
	b.WriteString(n.Name)
	attrs := append([]Attr(nil), n.Attrs...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escapeText(b, a.Value)
		b.WriteByte('"')
	}
	b.WriteByte('>')
	if len(n.Children) == 0 {
		escapeText(b, normalizeNewlines(n.Text))
	} else if unordered {
		parts := make([][]byte, len(n.Children))
		for i, c := range n.Children {
			var cb bytes.Buffer
			c.writeCanonical(&cb, false)
			parts[i] = cb.Bytes()
		}
		sort.Slice(parts, func(i, j int) bool { return bytes.Compare(parts[i], parts[j]) < 0 })
		for _, part := range parts {
			b.Write(part)
		}
	} else {
		for _, c := range n.Children {
			c.writeCanonical(b, false)
		}
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteByte('>')
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func escapeText(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, `&<>"'`) {
		b.WriteString(s)
		return
	}
	b.WriteString(textEscaper.Replace(s))
}

// MetadataNS is the namespace of every Metadata API document.
const MetadataNS = "http://soap.sforce.com/2006/04/metadata"

// Marshal writes n as a metadata file: an XML declaration, the metadata
// namespace on the root, four-space indentation, as Salesforce and the
// Salesforce CLI write them.
func (n *Node) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	root := *n
	if root.NS == "" {
		root.NS = MetadataNS
	}
	root.write(&b, 0, true)
	return b.Bytes()
}

func (n *Node) write(b *bytes.Buffer, depth int, root bool) {
	indent := strings.Repeat("    ", depth)
	if n.Name == "" {
		b.WriteString(indent)
		escapeText(b, n.Text)
		b.WriteByte('\n')
		return
	}
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(n.Name)
	if root || n.NS != "" {
		if n.NS != "" {
			b.WriteString(` xmlns="`)
			escapeText(b, n.NS)
			b.WriteByte('"')
		}
	}
	for _, a := range n.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escapeText(b, a.Value)
		b.WriteByte('"')
	}
	if len(n.Children) == 0 {
		if n.Text == "" {
			b.WriteString("/>\n")
			return
		}
		b.WriteByte('>')
		escapeText(b, n.Text)
		b.WriteString("</")
		b.WriteString(n.Name)
		b.WriteString(">\n")
		return
	}
	b.WriteString(">\n")
	for _, c := range n.Children {
		c.write(b, depth+1, false)
	}
	b.WriteString(indent)
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteString(">\n")
}

// Clone returns a deep copy of n, to change without touching n.
func (n *Node) Clone() *Node {
	c := *n
	c.Attrs = append([]Attr(nil), n.Attrs...)
	if n.Children != nil {
		c.Children = make([]*Node, len(n.Children))
		for i, ch := range n.Children {
			c.Children[i] = ch.Clone()
		}
	}
	return &c
}
