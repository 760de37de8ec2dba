package markdown

import (
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		want      []string
		never     []string
	}{
		{"emphasis and lists", "Managers approve **big** quotes:\n\n- over 10k\n- in EUR", []string{"<strong>big</strong>", "<li>over 10k</li>"}, nil},
		{"script is dropped", "Hi <script>alert(1)</script> there", []string{"Hi"}, []string{"<script", "alert(1)</script>"}},
		{"event handlers are dropped", `<img src="x" onerror="alert(1)">`, nil, []string{"onerror"}},
		{"javascript links are dropped", "[click](javascript:alert(1))", []string{"click"}, []string{"javascript:"}},
		{"raw html is not rendered", "<iframe src=https://evil.example></iframe>", nil, []string{"<iframe"}},
		{"links get nofollow", "[docs](https://example.com)", []string{`href="https://example.com"`, `rel="nofollow noopener"`}, nil},
		{"tables", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"task lists are marks, not inputs", "- [x] done\n- [ ] open", []string{`class="task-done"`, "☑", `class="task"`, "☐"}, []string{"<input"}},
		{"form controls are dropped", `<input type="text" name="password"><form action="https://evil.example"><button>Go</button></form><textarea>x</textarea><select><option>a</option></select>`, nil, []string{"<input", "<form", "<button", "<textarea", "<select", "<option"}},
		{"off-site images are not loaded", "![pixel](https://tracker.example/p.gif) <img src=\"http://10.0.0.1/x.png\"> <img src=\"//evil.example/x.png\">", []string{`src="/static/offsite-image.svg"`}, []string{"tracker.example", "10.0.0.1", "evil.example"}},
		{"local and inline images are kept", "![shot](/feedback/3/screenshot) <img src=\"data:image/png;base64,iVBORw0KGgo=\">", []string{`src="/feedback/3/screenshot"`, `src="data:image/png;base64,iVBORw0KGgo="`}, nil},
		{"data URLs other than images are dropped", `<img src="data:text/html;base64,PHNjcmlwdD4=">`, nil, []string{"data:text/html"}},
		{"safe html is kept", "<b onclick=\"x()\">bold</b> and <kbd>Ctrl</kbd>", []string{"<b>bold</b>", "<kbd>Ctrl</kbd>"}, []string{"onclick"}},
		{"a block starting with a tag keeps its text", "<script>alert(1)</script><b>still here</b>", []string{"still here"}, []string{"<script"}},
		{"style attributes are dropped", `<p style="position:fixed">x</p>`, nil, []string{"position:fixed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := HTML(c.src)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("HTML(%q) = %q, want it to contain %q", c.src, got, w)
				}
			}
			for _, n := range c.never {
				if strings.Contains(got, n) {
					t.Errorf("HTML(%q) = %q, must not contain %q", c.src, got, n)
				}
			}
		})
	}
}
