package trackersim

import (
	"encoding/json"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The demo runs a simulated tracker across restarts and lets a person act
// as the tracker's users in a browser: a small board at /board to add a
// story, move it and comment, each sending the webhook as the real
// product would.

type persisted struct {
	Issues    map[string]*Issue `json:"issues"`
	Order     []string          `json:"order"`
	Next      int               `json:"next"`
	CommentID int               `json:"comment_id"`
	Hook      string            `json:"hook"`
	Secret    string            `json:"secret"`
}

// PersistTo keeps the tracker's state in path: loaded now if it exists,
// written after every change.
func (s *Sim) PersistTo(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path = path
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	s.issues, s.order, s.next, s.commentID, s.hook, s.secret = p.Issues, p.Order, p.Next, p.CommentID, p.Hook, p.Secret
	if s.issues == nil {
		s.issues = map[string]*Issue{}
	}
	return nil
}

// saveLocked writes the state; s.mu is held.
func (s *Sim) saveLocked() {
	if s.path == "" {
		return
	}
	b, err := json.MarshalIndent(persisted{Issues: s.issues, Order: s.order, Next: s.next, CommentID: s.commentID, Hook: s.hook, Secret: s.secret}, "", " ")
	if err != nil {
		return
	}
	tmp := s.path + ".tmp"
	if os.MkdirAll(filepath.Dir(s.path), 0o700) == nil && os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, s.path)
	}
}

func (s *Sim) save() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveLocked()
}

// Len is how many issues the tracker has.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issues)
}

var boardPage = template.Must(template.New("board").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Product}} board (simulated)</title>
<style>
body{font:15px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#172b4d}
header{background:#0747a6;color:#fff;padding:.8rem 1.2rem}header small{opacity:.8}
main{padding:1rem 1.2rem;max-width:1100px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:.8rem}
.col{background:#ebecf0;border-radius:6px;padding:.6rem}.col h2{font-size:.8rem;text-transform:uppercase;margin:.2rem 0 .6rem}
.card{background:#fff;border-radius:4px;padding:.6rem;margin-bottom:.6rem;box-shadow:0 1px 1px rgba(9,30,66,.25)}
.key{font-family:monospace;color:#5e6c84}.muted{color:#5e6c84;font-size:.85rem}
form.inline{display:flex;gap:.3rem;margin-top:.4rem;flex-wrap:wrap}
input,select,textarea,button{font:inherit}button{cursor:pointer}
.done{background:#e3fcef;padding:.5rem .8rem;border-radius:4px;margin-bottom:.8rem}
</style></head><body>
<header><strong>{{.Product}}</strong> · {{.Scope}} <small>— a simulated tracker for the Trellis demo; changes here send its webhook to Trellis</small></header>
<main>
{{if .Done}}<p class="done" role="status">{{.Done}}</p>{{end}}
<form method="post" class="inline" aria-label="New story">
<input type="hidden" name="action" value="create">
<label>New story <input name="title" required placeholder="Title"></label>
<input name="description" placeholder="Description (Markdown)">
<button type="submit">Create</button>
</form>
<div class="cols">
{{range $st := .Statuses}}<section class="col"><h2>{{$st}}</h2>
{{range $.Issues}}{{if eq .Status $st}}<div class="card" id="{{.Key}}" data-key="{{.Key}}">
<div><span class="key">{{.DisplayKey}}</span> {{.Title}}</div>
{{if .Labels}}<div class="muted">{{range .Labels}}#{{.}} {{end}}</div>{{end}}
{{range .Comments}}<div class="muted">💬 {{.Author}}: {{.Body}}</div>{{end}}
<form method="post" class="inline"><input type="hidden" name="action" value="move"><input type="hidden" name="key" value="{{.Key}}">
<label class="muted">Move to <select name="status">{{range $.Statuses}}<option{{if eq . $st}} selected{{end}}>{{.}}</option>{{end}}</select></label><button type="submit">Move</button></form>
<form method="post" class="inline"><input type="hidden" name="action" value="comment"><input type="hidden" name="key" value="{{.Key}}">
<input name="author" value="Pat Planner" aria-label="As" size="10"><input name="body" placeholder="Comment" aria-label="Comment" required><button type="submit">Comment</button></form>
</div>{{end}}{{end}}
</section>{{end}}
</div></main></body></html>`))

type boardIssue struct {
	Issue
	DisplayKey string
}

// board serves /board: the tracker's issues by status, with forms to add,
// move and comment as the tracker's people would.
func (s *Sim) board(w http.ResponseWriter, r *http.Request) {
	done := ""
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		f := r.PostForm.Get
		switch f("action") {
		case "create":
			if t := strings.TrimSpace(f("title")); t != "" {
				k := s.Create(t, f("description"))
				s.notify(k, "created")
				done = "Created " + k + "."
			}
		case "move":
			if _, ok := s.Get(f("key")); ok {
				s.Move(f("key"), f("status"))
				done = "Moved " + f("key") + " to " + f("status") + "."
			}
		case "comment":
			if _, ok := s.Get(f("key")); ok && strings.TrimSpace(f("body")) != "" {
				s.Comment(f("key"), strings.TrimSpace(f("author")), f("body"))
				done = "Commented on " + f("key") + "."
			}
		}
		http.Redirect(w, r, "/board?done="+template.URLQueryEscaper(done), http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	var issues []boardIssue
	for _, is := range s.sorted() {
		dk := is.Key
		if s.Kind == "github" || s.Kind == "azure_devops" {
			dk = "#" + is.Key
		}
		issues = append(issues, boardIssue{Issue: *is, DisplayKey: dk})
	}
	data := map[string]any{"Product": s.Kind.Label(), "Scope": s.Scope, "Statuses": s.statuses, "Issues": issues, "Done": r.URL.Query().Get("done")}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = boardPage.Execute(w, data)
}
