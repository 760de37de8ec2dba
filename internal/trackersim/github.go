package trackersim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// GitHub's REST API as the tests rely on it (Accept
// application/vnd.github+json, bearer token):
//   GET   /user                                   200 {login} | 401 {message: "Bad credentials"}
//   GET   /repos/{owner}/{repo}                   {full_name, has_issues, permissions{admin, push, triage, pull}} | 404
//   GET   /search/issues?q=repo:o/r is:issue …    {total_count, incomplete_results, items: [issue]}
//   GET   /repos/{o}/{r}/issues/{n}               {number, id, html_url, title, body, state, labels[{name}], assignees[{login}], updated_at}
//                                                 a deleted issue is 410 Gone
//   PATCH /repos/{o}/{r}/issues/{n}               {title, body, state, labels, assignees} → 200 issue
//   GET|POST /repos/{o}/{r}/issues/{n}/comments   [{id, body, user{login}, created_at}] | {body} → 201
//   GET   /search/users?q=<email> in:email        {items: [{login}]}
// Rate limits: 429 (or 403 with x-ratelimit-remaining: 0) and Retry-After.

func (s *Sim) ghIssue(is *Issue, base string) map[string]any {
	labels := []any{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	assignees := []any{}
	for _, u := range s.users {
		if is.Assignee != "" && strings.EqualFold(u.Email, is.Assignee) {
			assignees = append(assignees, map[string]string{"login": u.Login})
		}
	}
	state := "open"
	if strings.EqualFold(is.Status, "closed") {
		state = "closed"
	}
	return map[string]any{"number": is.Num, "id": 900000 + is.Num, "html_url": fmt.Sprintf("%s/%s/issues/%d", base, s.Scope, is.Num), "title": is.Title,
		"body": is.Description, "state": state, "labels": labels, "assignees": assignees, "updated_at": is.Updated.Format("2006-01-02T15:04:05Z")}
}

func ghError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)})
}

func (s *Sim) github(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	s.mu.Lock()
	defer s.mu.Unlock()
	p := r.URL.Path
	repo := "/repos/" + s.Scope
	switch {
	case p == "/user":
		writeJSON(w, 200, map[string]any{"login": "trellis-bot", "id": 1})
	case p == repo:
		writeJSON(w, 200, map[string]any{"full_name": s.Scope, "has_issues": true, "permissions": map[string]bool{"admin": false, "push": !s.readOnly, "triage": !s.readOnly, "pull": true}})
	case strings.HasPrefix(p, "/repos/") && !strings.HasPrefix(p, repo+"/"):
		ghError(w, 404, "Not Found")
	case p == "/search/issues":
		q := r.URL.Query().Get("q")
		if !strings.Contains(q, "repo:"+s.Scope) {
			ghError(w, 422, "Validation Failed")
			return
		}
		var words []string
		state := ""
		var labels []string
		for _, f := range strings.Fields(q) {
			switch {
			case strings.HasPrefix(f, "repo:"), f == "is:issue":
			case f == "is:open", f == "state:open":
				state = "open"
			case f == "is:closed", f == "state:closed":
				state = "closed"
			case strings.HasPrefix(f, "label:"):
				labels = append(labels, strings.Trim(strings.TrimPrefix(f, "label:"), `"`))
			default:
				words = append(words, strings.ToLower(f))
			}
		}
		items := []any{}
		for _, is := range s.sorted() {
			if state != "" && !strings.EqualFold(is.Status, state) {
				continue
			}
			ok := true
			for _, l := range labels {
				ok = ok && hasLabel(is.Labels, l)
			}
			for _, wd := range words {
				ok = ok && strings.Contains(strings.ToLower(is.Title+" "+is.Description), wd)
			}
			if ok {
				items = append(items, s.ghIssue(is, base))
			}
		}
		writeJSON(w, 200, map[string]any{"total_count": len(items), "incomplete_results": false, "items": items})
	case p == "/search/users":
		q := strings.TrimSuffix(r.URL.Query().Get("q"), " in:email")
		items := []any{}
		for _, u := range s.users {
			if strings.EqualFold(u.Email, q) {
				items = append(items, map[string]string{"login": u.Login})
			}
		}
		writeJSON(w, 200, map[string]any{"total_count": len(items), "items": items})
	case strings.HasPrefix(p, repo+"/issues/"):
		rest := strings.Split(strings.TrimPrefix(p, repo+"/issues/"), "/")
		is := s.issues[rest[0]]
		if is == nil {
			ghError(w, 404, "Not Found")
			return
		}
		if is.Deleted {
			ghError(w, 410, "This issue was deleted")
			return
		}
		if r.Method != http.MethodGet && s.readOnly {
			ghError(w, 403, "Must have admin rights to Repository.")
			return
		}
		if len(rest) == 2 && rest[1] == "comments" {
			s.ghComments(w, r, is)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, s.ghIssue(is, base))
		case http.MethodPatch:
			var body map[string]any
			if err := decode(r, &body); err != nil {
				ghError(w, 400, "Problems parsing JSON")
				return
			}
			for k, v := range body {
				switch k {
				case "title":
					is.Title, _ = v.(string)
				case "body":
					is.Description, _ = v.(string)
				case "state":
					st, _ := v.(string)
					if st != "open" && st != "closed" {
						ghError(w, 422, "Validation Failed")
						return
					}
					is.Status = st
				case "labels":
					is.Labels = nil
					for _, l := range v.([]any) {
						ls, _ := l.(string)
						is.Labels = append(is.Labels, ls)
					}
				case "assignees":
					is.Assignee = ""
					for _, a := range v.([]any) {
						for _, u := range s.users {
							if u.Login == a {
								is.Assignee = u.Email
							}
						}
					}
				}
			}
			is.Updated = s.tick()
			writeJSON(w, 200, s.ghIssue(is, base))
		default:
			ghError(w, 404, "Not Found")
		}
	default:
		ghError(w, 404, "Not Found")
	}
}

func (s *Sim) ghComments(w http.ResponseWriter, r *http.Request, is *Issue) {
	one := func(c Comment) map[string]any {
		login := c.Author
		for _, u := range s.users {
			if strings.EqualFold(u.Email, c.Email) {
				login = u.Login
			}
		}
		return map[string]any{"id": 500000 + c.ID, "body": c.Body, "user": map[string]string{"login": login}, "created_at": c.Created.Format("2006-01-02T15:04:05Z")}
	}
	if r.Method == http.MethodPost {
		var body struct {
			Body string `json:"body"`
		}
		if err := decode(r, &body); err != nil || strings.TrimSpace(body.Body) == "" {
			ghError(w, 422, "Validation Failed")
			return
		}
		s.commentID++
		c := Comment{ID: s.commentID, Author: "trellis-bot", Email: s.User, Body: body.Body, Created: s.tick()}
		is.Comments = append(is.Comments, c)
		writeJSON(w, 201, one(c))
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per == 0 {
		per = 30
	}
	if page == 0 {
		page = 1
	}
	cs := []any{}
	for i, c := range is.Comments {
		if i >= (page-1)*per && i < page*per {
			cs = append(cs, one(c))
		}
	}
	writeJSON(w, 200, cs)
}

var _ = tracker.GitHub
