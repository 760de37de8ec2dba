package orgsim

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// soqlQuery is the SOQL subset the simulator understands: fields
// (relationship fields one level up), COUNT(), FROM, WHERE with
// comparisons, LIKE, IN, AND/OR/NOT and parentheses, ORDER BY, LIMIT and
// OFFSET.
type soqlQuery struct {
	fields  []string
	count   bool
	from    string
	where   expr
	orderBy []orderItem
	limit   int
	offset  int
}

type orderItem struct {
	field     string
	desc      bool
	nullsLast bool
}

type queryError struct{ code, msg, field string }

func (e *queryError) Error() string { return e.code + ": " + e.msg }

func malformed(format string, a ...any) error {
	return &queryError{code: "MALFORMED_QUERY", msg: fmt.Sprintf(format, a...)}
}

// tokens

type tok struct {
	kind string // ident, str, num, op, punct, date
	text string
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}))?`)

func lex(q string) ([]tok, error) {
	var out []tok
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '\''; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
					switch q[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(q[j])
					}
					continue
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, malformed("unexpected end of query: unterminated string")
			}
			out = append(out, tok{"str", b.String()})
			i = j + 1
		case c >= '0' && c <= '9':
			if m := dateRe.FindString(q[i:]); m != "" && len(m) >= 10 {
				out = append(out, tok{"date", m})
				i += len(m)
				continue
			}
			j := i
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.') {
				j++
			}
			out = append(out, tok{"num", q[i:j]})
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.') {
				j++
			}
			out = append(out, tok{"num", q[i:j]})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '.' || q[j] == ':' || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			out = append(out, tok{"ident", q[i:j]})
			i = j
		case strings.HasPrefix(q[i:], "!=") || strings.HasPrefix(q[i:], "<>") || strings.HasPrefix(q[i:], "<=") || strings.HasPrefix(q[i:], ">="):
			out = append(out, tok{"op", q[i : i+2]})
			i += 2
		case c == '=' || c == '<' || c == '>':
			out = append(out, tok{"op", string(c)})
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, tok{"punct", string(c)})
			i++
		default:
			return nil, malformed("unexpected character %q", c)
		}
	}
	return out, nil
}

type parser struct {
	toks []tok
	pos  int
}

func (p *parser) peek() tok {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return tok{}
}

func (p *parser) next() tok {
	t := p.peek()
	p.pos++
	return t
}

func (p *parser) keyword(k string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	if t := p.peek(); t.kind == "punct" && t.text == s {
		p.pos++
		return true
	}
	return false
}

func parseSOQL(q string) (*soqlQuery, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if !p.keyword("SELECT") {
		return nil, malformed("unexpected token: '%s'", p.peek().text)
	}
	out := &soqlQuery{limit: -1}
	for {
		t := p.next()
		if t.kind != "ident" {
			if t.kind == "punct" && t.text == "(" {
				return nil, malformed("subqueries are not supported by this org")
			}
			return nil, malformed("unexpected token: '%s'", t.text)
		}
		if strings.EqualFold(t.text, "COUNT") && p.punct("(") {
			if !p.punct(")") {
				return nil, malformed("only COUNT() is supported")
			}
			out.count = true
		} else {
			out.fields = append(out.fields, t.text)
		}
		if !p.punct(",") {
			break
		}
	}
	if !p.keyword("FROM") {
		return nil, malformed("unexpected token: '%s'", p.peek().text)
	}
	from := p.next()
	if from.kind != "ident" {
		return nil, malformed("unexpected token: '%s'", from.text)
	}
	out.from = from.text
	if p.keyword("WHERE") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		out.where = e
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			return nil, malformed("expecting BY after ORDER")
		}
		for {
			f := p.next()
			if f.kind != "ident" {
				return nil, malformed("unexpected token: '%s'", f.text)
			}
			it := orderItem{field: f.text}
			if p.keyword("DESC") {
				it.desc, it.nullsLast = true, true
			} else {
				p.keyword("ASC")
			}
			if p.keyword("NULLS") {
				switch {
				case p.keyword("FIRST"):
					it.nullsLast = false
				case p.keyword("LAST"):
					it.nullsLast = true
				default:
					return nil, malformed("expecting FIRST or LAST after NULLS")
				}
			}
			out.orderBy = append(out.orderBy, it)
			if !p.punct(",") {
				break
			}
		}
	}
	if p.keyword("LIMIT") {
		n, err := strconv.Atoi(p.next().text)
		if err != nil || n < 0 {
			return nil, malformed("LIMIT must be a non-negative integer")
		}
		out.limit = n
	}
	if p.keyword("OFFSET") {
		n, err := strconv.Atoi(p.next().text)
		if err != nil || n < 0 {
			return nil, malformed("OFFSET must be a non-negative integer")
		}
		out.offset = n
	}
	if p.pos < len(p.toks) {
		return nil, malformed("unexpected token: '%s'", p.peek().text)
	}
	return out, nil
}

// expressions

type expr interface {
	eval(row func(string) (any, bool)) (bool, error)
}

type andExpr struct{ a, b expr }
type orExpr struct{ a, b expr }
type notExpr struct{ e expr }
type cmpExpr struct {
	field string
	op    string // = != < <= > >= LIKE IN NOTIN
	vals  []tok
}

func (e andExpr) eval(r func(string) (any, bool)) (bool, error) {
	a, err := e.a.eval(r)
	if err != nil || !a {
		return false, err
	}
	return e.b.eval(r)
}

func (e orExpr) eval(r func(string) (any, bool)) (bool, error) {
	a, err := e.a.eval(r)
	if err != nil || a {
		return a, err
	}
	return e.b.eval(r)
}

func (e notExpr) eval(r func(string) (any, bool)) (bool, error) {
	v, err := e.e.eval(r)
	return !v, err
}

func (p *parser) or() (expr, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = orExpr{a, b}
	}
	return a, nil
}

func (p *parser) and() (expr, error) {
	a, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		b, err := p.unary()
		if err != nil {
			return nil, err
		}
		a = andExpr{a, b}
	}
	return a, nil
}

func (p *parser) unary() (expr, error) {
	if p.keyword("NOT") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	if p.punct("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.punct(")") {
			return nil, malformed("expecting ')'")
		}
		return e, nil
	}
	f := p.next()
	if f.kind != "ident" {
		return nil, malformed("unexpected token: '%s'", f.text)
	}
	c := cmpExpr{field: f.text}
	switch t := p.peek(); {
	case t.kind == "op":
		p.pos++
		c.op = t.text
		if c.op == "<>" {
			c.op = "!="
		}
		v := p.next()
		if v.kind == "" || v.kind == "punct" || v.kind == "op" {
			return nil, malformed("unexpected token: '%s'", v.text)
		}
		c.vals = []tok{v}
	case p.keyword("LIKE"):
		c.op = "LIKE"
		v := p.next()
		if v.kind != "str" {
			return nil, malformed("LIKE needs a string")
		}
		c.vals = []tok{v}
	case p.keyword("NOT"):
		if !p.keyword("IN") {
			return nil, malformed("expecting IN after NOT")
		}
		c.op = "NOTIN"
		fallthrough
	case c.op == "NOTIN" || p.keyword("IN"):
		if c.op == "" {
			c.op = "IN"
		}
		if !p.punct("(") {
			return nil, malformed("expecting '(' after IN")
		}
		for {
			v := p.next()
			if v.kind == "punct" || v.kind == "" {
				return nil, malformed("unexpected token: '%s'", v.text)
			}
			c.vals = append(c.vals, v)
			if p.punct(")") {
				break
			}
			if !p.punct(",") {
				return nil, malformed("expecting ',' or ')'")
			}
		}
	default:
		return nil, malformed("unexpected token: '%s'", t.text)
	}
	return c, nil
}

func (c cmpExpr) eval(row func(string) (any, bool)) (bool, error) {
	v, ok := row(c.field)
	if !ok {
		return false, &queryError{code: "INVALID_FIELD", field: c.field}
	}
	switch c.op {
	case "IN", "NOTIN":
		in := false
		for _, t := range c.vals {
			if compare(v, t) == 0 {
				in = true
			}
		}
		return in == (c.op == "IN"), nil
	case "LIKE":
		s, _ := v.(string)
		return likeMatch(strings.ToLower(s), strings.ToLower(c.vals[0].text)), nil
	}
	cmp := compare(v, c.vals[0])
	if cmp == cmpIncomparable {
		return c.op == "!=", nil
	}
	switch c.op {
	case "=":
		return cmp == 0, nil
	case "!=":
		return cmp != 0, nil
	case "<":
		return cmp < 0, nil
	case "<=":
		return cmp <= 0, nil
	case ">":
		return cmp > 0, nil
	case ">=":
		return cmp >= 0, nil
	}
	return false, malformed("unknown operator %s", c.op)
}

const cmpIncomparable = 99

// compare orders a record value against a literal.
func compare(v any, t tok) int {
	if t.kind == "ident" {
		switch strings.ToLower(t.text) {
		case "null":
			if v == nil {
				return 0
			}
			return 1
		case "true", "false":
			b, ok := v.(bool)
			if !ok {
				return cmpIncomparable
			}
			if b == (strings.ToLower(t.text) == "true") {
				return 0
			}
			return 1
		}
		if lit, ok := dateLiteral(t.text); ok {
			t = tok{"date", lit}
		} else {
			return cmpIncomparable
		}
	}
	if v == nil {
		return cmpIncomparable
	}
	switch t.kind {
	case "num":
		f, err := strconv.ParseFloat(t.text, 64)
		var x float64
		switch v := v.(type) {
		case float64:
			x = v
		case int:
			x = float64(v)
		case string:
			x, err = strconv.ParseFloat(v, 64)
		default:
			return cmpIncomparable
		}
		if err != nil {
			return cmpIncomparable
		}
		return cmpFloat(x, f)
	case "date":
		lit, ok := parseAnyTime(t.text)
		s, isStr := v.(string)
		if !ok || !isStr {
			return cmpIncomparable
		}
		val, ok := parseAnyTime(s)
		if !ok {
			return cmpIncomparable
		}
		if len(t.text) == 10 { // a date: compare days
			val = val.Truncate(24 * time.Hour)
		}
		return val.Compare(lit)
	case "str":
		s, ok := v.(string)
		if !ok {
			return cmpIncomparable
		}
		if looksLikeID(s) && looksLikeID(t.text) {
			// Ids match on their first 15 characters, case-sensitively.
			if sameID(s, t.text) {
				return 0
			}
			return strings.Compare(s, t.text)
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(t.text))
	}
	return cmpIncomparable
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseAnyTime(s string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// dateLiteral turns TODAY, YESTERDAY and LAST_N_DAYS:n into a start time.
func dateLiteral(s string) (string, bool) {
	now := time.Now().UTC().Truncate(24 * time.Hour)
	switch u := strings.ToUpper(s); {
	case u == "TODAY":
		return now.Format("2006-01-02T15:04:05Z"), true
	case u == "YESTERDAY":
		return now.AddDate(0, 0, -1).Format("2006-01-02T15:04:05Z"), true
	case strings.HasPrefix(u, "LAST_N_DAYS:"):
		n, err := strconv.Atoi(strings.TrimPrefix(u, "LAST_N_DAYS:"))
		if err != nil {
			return "", false
		}
		return now.AddDate(0, 0, -n).Format("2006-01-02T15:04:05Z"), true
	}
	return "", false
}

func likeMatch(s, pattern string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString("(?s)"+re.String(), s)
	return ok
}

// sortRows orders rows by the ORDER BY items.
func sortRows(rows []Record, items []orderItem, get func(Record, string) any) {
	if len(items) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, it := range items {
			a, b := get(rows[i], it.field), get(rows[j], it.field)
			if a == nil || b == nil {
				if a == nil && b == nil {
					continue
				}
				return (a == nil) != it.nullsLast
			}
			c := compareValues(a, b)
			if c == 0 {
				continue
			}
			if it.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			return cmpFloat(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(strings.ToLower(x), strings.ToLower(y))
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// looksLikeID reports whether s has the shape of a 15- or 18-character id.
func looksLikeID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return digit
}
