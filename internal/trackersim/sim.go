// Package trackersim simulates the REST APIs of Jira (Cloud v3 and Data
// Center v2), Azure DevOps Boards and GitHub Issues closely enough to run
// Trellis's tracker sync against them over real HTTP: their paths, auth
// schemes, payload shapes, status codes (401, 403, 404/410, 429 with
// Retry-After, 5xx) and signed webhooks. Tests (and the demo) drive the
// "tracker side" through its methods: create an issue, move it, comment,
// delete it, revoke the token, take the tracker down.
package trackersim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// Issue is the simulator's record of an issue; texts are Markdown and
// each API serves them in its own format.
type Issue struct {
	Num         int
	Key         string
	Type        string
	Title       string
	Description string
	Status      string
	Assignee    string // email
	Labels      []string
	Updated     time.Time
	Comments    []Comment
	Links       []string // remote links / hyperlinks (urls)
	Deleted     bool
}

// Comment is a comment on an issue.
type Comment struct {
	ID      int
	Author  string
	Email   string
	Body    string
	Created time.Time
}

// User is an account the tracker knows.
type User struct {
	ID, Name, Email, Login string
}

// Sim is one simulated tracker.
type Sim struct {
	Kind  tracker.Kind
	Scope string // project key, org/project, owner/repo
	Token string
	User  string // Jira Cloud's account email

	mu        sync.Mutex
	issues    map[string]*Issue
	order     []string
	next      int
	commentID int
	users     []User
	statuses  []string
	revoked   bool
	down      bool
	limitNext int
	limitWait int
	readOnly  bool
	requests  []string
	hook      string // where webhooks go
	secret    string
	client    *http.Client
	now       func() time.Time
	path      string // where the state is kept (PersistTo)
}

// New makes a simulated tracker with a project and a valid token.
func New(kind tracker.Kind) *Sim {
	s := &Sim{Kind: kind, Token: "tok-" + string(kind), User: "bot@example.com", issues: map[string]*Issue{}, next: 1,
		client: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	switch kind {
	case tracker.Azure:
		s.Scope = "contoso/Sales"
		s.statuses = []string{"New", "Active", "Resolved", "Closed"}
	case tracker.GitHub:
		s.Scope = "acme/crm"
		s.statuses = []string{"open", "closed"}
	default:
		s.Scope = "PROJ"
		s.statuses = []string{"To Do", "In Progress", "In Review", "Done"}
	}
	s.users = []User{{ID: "acc-bot", Name: "Trellis Bot", Email: s.User, Login: "trellis-bot"}}
	return s
}

// AddUser makes an account the tracker can assign issues to.
func (s *Sim) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// Statuses are the workflow's statuses.
func (s *Sim) Statuses() []string { return append([]string{}, s.statuses...) }

// Create adds an issue in the first status and returns its key.
func (s *Sim) Create(title, description string, labels ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next
	s.next++
	key := strconv.Itoa(n)
	if s.Kind == tracker.JiraCloud || s.Kind == tracker.JiraDC {
		key = fmt.Sprintf("%s-%d", s.Scope, n)
	}
	typ := "User Story"
	if s.Kind == tracker.JiraCloud || s.Kind == tracker.JiraDC {
		typ = "Story"
	}
	s.issues[key] = &Issue{Num: n, Key: key, Type: typ, Title: title, Description: description, Status: s.statuses[0], Labels: labels, Updated: s.tick()}
	s.order = append(s.order, key)
	s.saveLocked()
	return key
}

// tick is the next update time, strictly after the last.
func (s *Sim) tick() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Get is a copy of an issue.
func (s *Sim) Get(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return Issue{}, false
	}
	c := *is
	c.Comments = append([]Comment{}, is.Comments...)
	c.Links = append([]string{}, is.Links...)
	c.Labels = append([]string{}, is.Labels...)
	return c, true
}

// Edit changes an issue as a person in the tracker would, and tells the
// webhook.
func (s *Sim) Edit(key string, f func(*Issue)) {
	s.mu.Lock()
	is := s.issues[key]
	if is != nil {
		f(is)
		is.Updated = s.tick()
	}
	s.saveLocked()
	s.mu.Unlock()
	s.notify(key, "updated")
}

// Move puts an issue in status (as a person dragging it on the tracker's
// board) and sends the webhook.
func (s *Sim) Move(key, status string) {
	s.Edit(key, func(is *Issue) { is.Status = status })
}

// Comment adds a comment by a person and sends the webhook.
func (s *Sim) Comment(key, author, body string) {
	s.mu.Lock()
	if is := s.issues[key]; is != nil {
		s.commentID++
		is.Comments = append(is.Comments, Comment{ID: s.commentID, Author: author, Email: strings.ToLower(strings.ReplaceAll(author, " ", ".")) + "@example.com", Body: body, Created: s.tick()})
		is.Updated = s.tick()
	}
	s.saveLocked()
	s.mu.Unlock()
	s.notify(key, "commented")
}

// Delete removes an issue (404 in Jira and Azure DevOps, 410 on GitHub).
func (s *Sim) Delete(key string) {
	s.mu.Lock()
	if is := s.issues[key]; is != nil {
		is.Deleted = true
	}
	s.saveLocked()
	s.mu.Unlock()
	s.notify(key, "deleted")
}

// Revoke makes the token invalid (true) or valid again.
func (s *Sim) Revoke(v bool) { s.mu.Lock(); s.revoked = v; s.mu.Unlock() }

// Down makes every request fail with 503 (true) or serve again.
func (s *Sim) Down(v bool) { s.mu.Lock(); s.down = v; s.mu.Unlock() }

// ReadOnly makes the token lack write permission.
func (s *Sim) ReadOnly(v bool) { s.mu.Lock(); s.readOnly = v; s.mu.Unlock() }

// RateLimit answers the next n requests with 429 and Retry-After: wait.
func (s *Sim) RateLimit(n int, wait time.Duration) {
	s.mu.Lock()
	s.limitNext, s.limitWait = n, int(wait/time.Second)
	s.mu.Unlock()
}

// Requests lists "METHOD path status" of every request so far.
func (s *Sim) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.requests...)
}

// SendWebhooksTo makes the tracker deliver its webhooks to url, signed
// with secret (Azure DevOps: as the basic-auth password).
func (s *Sim) SendWebhooksTo(url, secret string) {
	s.mu.Lock()
	s.hook, s.secret = url, secret
	s.saveLocked()
	s.mu.Unlock()
}

// notify delivers the tracker's webhook for key, as each product shapes it.
func (s *Sim) notify(key, what string) {
	s.mu.Lock()
	hook, secret := s.hook, s.secret
	is := s.issues[key]
	s.mu.Unlock()
	if hook == "" || is == nil {
		return
	}
	var payload any
	req, _ := http.NewRequest(http.MethodPost, hook, nil)
	switch s.Kind {
	case tracker.GitHub:
		ev, action := "issues", "edited"
		switch what {
		case "created":
			action = "opened"
		case "commented":
			ev, action = "issue_comment", "created"
		case "deleted":
			action = "deleted"
		}
		payload = map[string]any{"action": action, "issue": map[string]any{"number": is.Num, "title": is.Title}, "repository": map[string]any{"full_name": s.Scope}}
		req.Header.Set("X-GitHub-Event", ev)
		req.Header.Set("X-GitHub-Delivery", strconv.FormatInt(time.Now().UnixNano(), 10))
	case tracker.Azure:
		ev := "workitem.updated"
		res := map[string]any{"workItemId": is.Num, "id": 1}
		switch what {
		case "created":
			ev, res = "workitem.created", map[string]any{"id": is.Num}
		case "commented":
			ev, res = "workitem.commented", map[string]any{"id": is.Num}
		case "deleted":
			ev, res = "workitem.deleted", map[string]any{"id": is.Num}
		}
		payload = map[string]any{"eventType": ev, "publisherId": "tfs", "resource": res}
		req.SetBasicAuth("trellis", secret)
	default:
		ev := "jira:issue_updated"
		switch what {
		case "created":
			ev = "jira:issue_created"
		case "commented":
			ev = "comment_created"
		case "deleted":
			ev = "jira:issue_deleted"
		}
		payload = map[string]any{"timestamp": time.Now().UnixMilli(), "webhookEvent": ev, "issue": map[string]any{"id": strconv.Itoa(is.Num), "key": is.Key}}
	}
	body, _ := json.Marshal(payload)
	switch s.Kind {
	case tracker.GitHub:
		req.Header.Set("X-Hub-Signature-256", "sha256="+tracker.Sign(secret, body))
	case tracker.JiraCloud, tracker.JiraDC:
		req.Header.Set("X-Hub-Signature", "sha256="+tracker.Sign(secret, body))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	if res, err := s.client.Do(req); err == nil {
		res.Body.Close()
	}
}

// ServeHTTP answers the product's REST API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/board" {
		s.board(w, r)
		return
	}
	if k, ok := strings.CutPrefix(r.URL.Path, "/browse/"); ok {
		// An issue's page in the tracker's UI: the board shows it.
		http.Redirect(w, r, "/board#"+k, http.StatusFound)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
		if r.Method != http.MethodGet {
			s.saveLocked()
		}
		s.mu.Unlock()
	}()
	s.mu.Lock()
	down, revoked, limited, wait := s.down, s.revoked, s.limitNext > 0, s.limitWait
	if limited {
		s.limitNext--
	}
	s.mu.Unlock()
	switch {
	case down:
		http.Error(rec, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case limited:
		rec.Header().Set("Retry-After", strconv.Itoa(wait))
		writeJSON(rec, http.StatusTooManyRequests, map[string]any{"message": "Rate limit exceeded"})
		return
	case revoked || !s.authorized(r):
		if s.Kind == tracker.GitHub {
			writeJSON(rec, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		rec.Header().Set("WWW-Authenticate", `Basic realm="tracker"`)
		writeJSON(rec, http.StatusUnauthorized, map[string]any{"errorMessages": []string{"You are not authenticated."}, "message": "Unauthorized"})
		return
	}
	switch s.Kind {
	case tracker.GitHub:
		s.github(rec, r)
	case tracker.Azure:
		s.azure(rec, r)
	default:
		s.jira(rec, r)
	}
}

func (s *Sim) authorized(r *http.Request) bool {
	switch s.Kind {
	case tracker.JiraCloud:
		u, p, ok := r.BasicAuth()
		return ok && u == s.User && p == s.Token
	case tracker.Azure:
		_, p, ok := r.BasicAuth()
		return ok && p == s.Token
	default:
		return r.Header.Get("Authorization") == "Bearer "+s.Token
	}
}

// live returns the issue, or nil if it is missing or deleted.
func (s *Sim) live(key string) *Issue {
	is := s.issues[key]
	if is == nil || is.Deleted {
		return nil
	}
	return is
}

func (s *Sim) sorted() []*Issue {
	var out []*Issue
	for _, k := range s.order {
		if is := s.live(k); is != nil {
			out = append(out, is)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Num > out[j].Num })
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	defer r.Body.Close()
	return json.NewDecoder(r.Body).Decode(v)
}

func hasLabel(ls []string, l string) bool {
	for _, x := range ls {
		if strings.EqualFold(x, l) {
			return true
		}
	}
	return false
}

// conjunction reads "a AND b AND (c)" with term for each part and matches
// an issue when every part does: the query languages' common core.
func conjunction(where string, term func(part string) (func(*Issue) bool, error)) (func(*Issue) bool, error) {
	var terms []func(*Issue) bool
	for _, part := range andRE.Split(where, -1) {
		part = strings.TrimSpace(strings.Trim(strings.TrimSpace(part), "()"))
		if part == "" {
			continue
		}
		t, err := term(part)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	return func(is *Issue) bool {
		for _, t := range terms {
			if !t(is) {
				return false
			}
		}
		return true
	}, nil
}

var andRE = regexp.MustCompile(`(?i)\s+AND\s+`)

// listValues splits "(a, 'b', \"c\")" into its values.
func listValues(v string) []string {
	var out []string
	for _, x := range strings.Split(strings.Trim(v, "()"), ",") {
		out = append(out, strings.Trim(strings.TrimSpace(x), `"'`))
	}
	return out
}

// anyEqual reports whether one of got equals one of vals (case aside).
func anyEqual(got, vals []string) bool {
	for _, g := range got {
		for _, v := range vals {
			if strings.EqualFold(g, v) {
				return true
			}
		}
	}
	return false
}
