package metadata

import (
	"regexp"
	"strings"
)

// Ignore decides which project paths are left out, with .forceignore's
// gitignore semantics: later rules win, "!" re-includes, a trailing "/"
// matches directories only, a "/" elsewhere anchors the rule to the
// project root, "**" spans directories, and nothing inside an ignored
// directory can be re-included.
type Ignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
	// fast matchers for the shapes most rules have; re is the fallback
	base    string // "**/name": the last segment equals base
	suffix  string // "**/*.ext": the last segment ends with suffix
	dotfile bool   // "**/.*"
	within  string // "**/name/**": a segment, not the last, equals within
}

// matches reports whether the rule matches path.
func (r ignoreRule) matches(path string) bool {
	last := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		last = path[i+1:]
	}
	switch {
	case r.base != "":
		return last == r.base
	case r.suffix != "":
		return strings.HasSuffix(last, r.suffix)
	case r.dotfile:
		return strings.HasPrefix(last, ".")
	case r.within != "":
		return strings.HasPrefix(path, r.within+"/") || strings.Contains(path, "/"+r.within+"/")
	}
	return r.re.MatchString(path)
}

// builtinIgnores are ignored in every project, as the Salesforce CLI does.
var builtinIgnores = []string{"**/*.dup", "**/.*", "**/package2-descriptor.json", "**/package2-manifest.json"}

// ParseIgnore reads .forceignore content (nil or empty for none) on top of
// the built-in rules.
func ParseIgnore(content []byte) *Ignore {
	ig := &Ignore{}
	for _, l := range builtinIgnores {
		ig.add(l)
	}
	for _, line := range strings.Split(string(content), "\n") {
		ig.add(strings.TrimRight(line, "\r"))
	}
	return ig
}

func (ig *Ignore) add(line string) {
	if strings.HasSuffix(line, "\\ ") {
		line = strings.TrimSuffix(line, "\\ ") + " "
	} else {
		line = strings.TrimRight(line, " \t")
	}
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	r := ignoreRule{}
	switch {
	case strings.HasPrefix(line, "!"):
		r.negate = true
		line = line[1:]
	case strings.HasPrefix(line, `\!`), strings.HasPrefix(line, `\#`):
		line = line[1:]
	}
	line = strings.ReplaceAll(line, `\`, "/") // forceignore wants forward slashes; be lenient
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimSuffix(line, "/")
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	if line == "" {
		return
	}
	if !anchored || strings.HasPrefix(line, "**/") {
		last := strings.TrimPrefix(line, "**/")
		switch {
		case last == ".*":
			r.dotfile = true
		case strings.HasSuffix(last, "/**") && !strings.ContainsAny(strings.TrimSuffix(last, "/**"), "*?[/"):
			r.within = strings.TrimSuffix(last, "/**")
		case strings.HasPrefix(last, "*.") && !strings.ContainsAny(last[2:], "*?[/"):
			r.suffix = last[1:]
		case !strings.ContainsAny(last, "*?[/"):
			r.base = last
		}
	}
	expr := globToRegexp(line)
	if anchored {
		expr = "^" + expr + "$"
	} else {
		expr = "^(?:.*/)?" + expr + "$"
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return // a rule we cannot read ignores nothing
	}
	r.re = re
	ig.rules = append(ig.rules, r)
}

func globToRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "/**") && i+3 == len(g):
			b.WriteString("/.*")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(g[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Ignored reports whether the file at path (slash-separated, relative to
// the project root) is ignored, itself or through a directory above it.
func (ig *Ignore) Ignored(path string) bool {
	if ig == nil {
		return false
	}
	path = strings.Trim(path, "/")
	for i := 0; i < len(path); i++ {
		if path[i] == '/' && ig.match(path[:i], true) {
			return true
		}
	}
	return ig.match(path, false)
}

// IgnoredDir reports whether the directory at path is ignored.
func (ig *Ignore) IgnoredDir(path string) bool {
	if ig == nil {
		return false
	}
	return ig.Ignored(strings.Trim(path, "/")+"/x") && ig.dirMatches(strings.Trim(path, "/"))
}

func (ig *Ignore) dirMatches(path string) bool {
	for i := 0; i <= len(path); i++ {
		if (i == len(path) || path[i] == '/') && ig.match(path[:i], true) {
			return true
		}
	}
	return false
}

func (ig *Ignore) match(path string, isDir bool) bool {
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.matches(path) {
			ignored = !r.negate
		}
	}
	return ignored
}
