package trackersim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// Jira's REST API as the tests rely on it:
//   GET  /rest/api/{3|2}/myself                      200 {accountId|name, emailAddress, displayName}
//   GET  /rest/api/N/project/{key}                   200 {key, name} | 404 {errorMessages}
//   GET  /rest/api/N/mypermissions?projectKey=&permissions=A,B   {permissions: {A: {havePermission}}}
//   POST /rest/api/3/search/jql (Cloud) · /rest/api/2/search (DC)  {jql, maxResults, fields} → {issues: [...]}
//   GET  /rest/api/N/issue/{key}                     {id, key, fields: {summary, description, status{name}, assignee, labels, updated}}
//   PUT  /rest/api/N/issue/{key}                     {fields: {...}} → 204
//   GET|POST /rest/api/N/issue/{key}/transitions     {transitions: [{id, name, to{name}}]} | {transition{id}} → 204
//   GET|POST /rest/api/N/issue/{key}/comment         {comments, startAt, maxResults, total} | {body} → 201
//   POST /rest/api/N/issue/{key}/remotelink          {globalId, object{url,title}} → 201 {id, self}
//   GET  /rest/api/N/user/search?query= (Cloud) | ?username= (DC)   [users]
//   GET  /rest/api/N/project/{key}/statuses          [{name, statuses: [{name}]}]
// v3 descriptions and comment bodies are ADF documents, v2 wiki markup;
// "updated" reads like 2026-12-03T10:15:30.000+0000; a missing issue is 404.

var jiraPath = regexp.MustCompile(`^/rest/api/([23])(/.*)$`)

func (s *Sim) jiraText(md string) any {
	if s.Kind == tracker.JiraCloud {
		return json.RawMessage(tracker.MarkdownToADF(md))
	}
	return tracker.MarkdownToWiki(md)
}

func (s *Sim) jiraRead(raw json.RawMessage) string {
	if s.Kind == tracker.JiraCloud {
		return tracker.ADFToMarkdown(raw)
	}
	var w string
	_ = json.Unmarshal(raw, &w)
	return tracker.WikiToMarkdown(w)
}

func (s *Sim) jiraUser(email string) any {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return map[string]any{"accountId": u.ID, "name": u.Login, "emailAddress": u.Email, "displayName": u.Name}
		}
	}
	if email == "" {
		return nil
	}
	return map[string]any{"accountId": "acc-" + email, "name": email, "emailAddress": email, "displayName": email}
}

func (s *Sim) jiraIssue(is *Issue) map[string]any {
	return map[string]any{"id": strconv.Itoa(10000 + is.Num), "key": is.Key, "self": "/rest/api/3/issue/" + is.Key, "fields": map[string]any{
		"summary": is.Title, "description": s.jiraText(is.Description), "status": map[string]any{"name": is.Status},
		"assignee": s.jiraUser(is.Assignee), "labels": nonNil(is.Labels), "issuetype": map[string]any{"name": is.Type},
		"updated": is.Updated.Format("2006-01-02T15:04:05.000-0700")}}
}

func nonNil(ls []string) []string {
	if ls == nil {
		return []string{}
	}
	return ls
}

func jiraError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessages": []string{msg}, "errors": map[string]string{}})
}

func (s *Sim) jira(w http.ResponseWriter, r *http.Request) {
	m := jiraPath.FindStringSubmatch(r.URL.Path)
	if m == nil || (m[1] == "3") != (s.Kind == tracker.JiraCloud) {
		http.NotFound(w, r)
		return
	}
	path := m[2]
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/myself" && r.Method == http.MethodGet:
		writeJSON(w, 200, s.jiraUser(s.User))
	case len(seg) == 2 && seg[0] == "project" && r.Method == http.MethodGet:
		if seg[1] != s.Scope {
			jiraError(w, 404, fmt.Sprintf("No project could be found with key '%s'.", seg[1]))
			return
		}
		writeJSON(w, 200, map[string]any{"key": s.Scope, "name": s.Scope + " project"})
	case len(seg) == 3 && seg[0] == "project" && seg[2] == "statuses":
		var st []map[string]string
		for _, x := range s.statuses {
			st = append(st, map[string]string{"name": x})
		}
		writeJSON(w, 200, []any{map[string]any{"name": "Story", "statuses": st}})
	case path == "/mypermissions":
		perms := map[string]any{}
		for _, p := range strings.Split(r.URL.Query().Get("permissions"), ",") {
			have := p == "BROWSE_PROJECTS" || !s.readOnly
			perms[p] = map[string]any{"key": p, "havePermission": have}
		}
		writeJSON(w, 200, map[string]any{"permissions": perms})
	case (path == "/search/jql" || path == "/search") && r.Method == http.MethodPost:
		var q struct {
			JQL string `json:"jql"`
			Max int    `json:"maxResults"`
		}
		if err := decode(r, &q); err != nil {
			jiraError(w, 400, "Invalid request payload.")
			return
		}
		match, err := s.jql(q.JQL)
		if err != nil {
			jiraError(w, 400, err.Error())
			return
		}
		var out []any
		for _, is := range s.sorted() {
			if match(is) && (q.Max == 0 || len(out) < q.Max) {
				out = append(out, s.jiraIssue(is))
			}
		}
		if out == nil {
			out = []any{}
		}
		if s.Kind == tracker.JiraCloud {
			writeJSON(w, 200, map[string]any{"issues": out, "isLast": true})
		} else {
			writeJSON(w, 200, map[string]any{"issues": out, "startAt": 0, "maxResults": q.Max, "total": len(out)})
		}
	case path == "/user/search":
		q := r.URL.Query().Get("query") + r.URL.Query().Get("username")
		out := []any{}
		for _, u := range s.users {
			if q != "" && (strings.EqualFold(u.Email, q) || strings.Contains(strings.ToLower(u.Name), strings.ToLower(q))) {
				out = append(out, s.jiraUser(u.Email))
			}
		}
		writeJSON(w, 200, out)
	case len(seg) >= 2 && seg[0] == "issue":
		is := s.live(seg[1])
		if is == nil {
			jiraError(w, 404, "Issue does not exist or you do not have permission to see it.")
			return
		}
		if r.Method != http.MethodGet && s.readOnly {
			jiraError(w, 403, "You do not have permission to edit this issue.")
			return
		}
		s.jiraIssueOp(w, r, is, seg[2:])
	default:
		jiraError(w, 404, "Not found: "+path)
	}
}

func (s *Sim) jiraIssueOp(w http.ResponseWriter, r *http.Request, is *Issue, rest []string) {
	sub := strings.Join(rest, "/")
	switch {
	case sub == "" && r.Method == http.MethodGet:
		writeJSON(w, 200, s.jiraIssue(is))
	case sub == "" && r.Method == http.MethodPut:
		var body struct {
			Fields map[string]json.RawMessage `json:"fields"`
		}
		if err := decode(r, &body); err != nil {
			jiraError(w, 400, "Invalid request payload.")
			return
		}
		for k, v := range body.Fields {
			switch k {
			case "summary":
				_ = json.Unmarshal(v, &is.Title)
			case "description":
				is.Description = s.jiraRead(v)
			case "labels":
				var ls []string
				_ = json.Unmarshal(v, &ls)
				for _, l := range ls {
					if strings.Contains(l, " ") {
						writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"labels": "The label '" + l + "' contains spaces which is invalid."}})
						return
					}
				}
				is.Labels = ls
			case "assignee":
				var a map[string]string
				_ = json.Unmarshal(v, &a)
				is.Assignee = ""
				for _, u := range s.users {
					if a != nil && (u.ID == a["accountId"] && a["accountId"] != "" || u.Login == a["name"] && a["name"] != "") {
						is.Assignee = u.Email
					}
				}
			default:
				writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": map[string]string{k: "Field '" + k + "' cannot be set. It is not on the appropriate screen, or unknown."}})
				return
			}
		}
		is.Updated = s.tick()
		w.WriteHeader(http.StatusNoContent)
	case sub == "transitions" && r.Method == http.MethodGet:
		var ts []any
		for i, st := range s.statuses {
			if st != is.Status {
				ts = append(ts, map[string]any{"id": strconv.Itoa(11 + i*10), "name": st, "to": map[string]string{"name": st}})
			}
		}
		writeJSON(w, 200, map[string]any{"transitions": ts})
	case sub == "transitions" && r.Method == http.MethodPost:
		var body struct {
			Transition struct {
				ID string `json:"id"`
			} `json:"transition"`
		}
		_ = decode(r, &body)
		for i, st := range s.statuses {
			if strconv.Itoa(11+i*10) == body.Transition.ID {
				is.Status = st
				is.Updated = s.tick()
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeJSON(w, 400, map[string]any{"errorMessages": []string{"Transition id '" + body.Transition.ID + "' is not valid for this issue."}})
	case sub == "comment" && r.Method == http.MethodGet:
		var cs []any
		for _, c := range is.Comments {
			cs = append(cs, s.jiraComment(c))
		}
		if cs == nil {
			cs = []any{}
		}
		writeJSON(w, 200, map[string]any{"comments": cs, "startAt": 0, "maxResults": len(cs), "total": len(cs)})
	case sub == "comment" && r.Method == http.MethodPost:
		var body struct {
			Body json.RawMessage `json:"body"`
		}
		if err := decode(r, &body); err != nil || len(body.Body) == 0 {
			jiraError(w, 400, "Comment body can not be empty!")
			return
		}
		s.commentID++
		c := Comment{ID: s.commentID, Author: "Trellis Bot", Email: s.User, Body: s.jiraRead(body.Body), Created: s.tick()}
		is.Comments = append(is.Comments, c)
		writeJSON(w, 201, s.jiraComment(c))
	case sub == "remotelink" && r.Method == http.MethodPost:
		var body struct {
			Object struct {
				URL string `json:"url"`
			} `json:"object"`
		}
		_ = decode(r, &body)
		if body.Object.URL == "" {
			writeJSON(w, 400, map[string]any{"errors": map[string]string{"url": "'url' is required."}})
			return
		}
		if !hasLabel(is.Links, body.Object.URL) {
			is.Links = append(is.Links, body.Object.URL)
		}
		writeJSON(w, 201, map[string]any{"id": len(is.Links), "self": "/rest/api/3/issue/" + is.Key + "/remotelink/" + strconv.Itoa(len(is.Links))})
	default:
		jiraError(w, 404, "Not found")
	}
}

func (s *Sim) jiraComment(c Comment) map[string]any {
	return map[string]any{"id": strconv.Itoa(c.ID), "author": map[string]string{"displayName": c.Author, "emailAddress": c.Email}, "body": s.jiraText(c.Body),
		"created": c.Created.Format("2006-01-02T15:04:05.000-0700")}
}

var jqlTerm = regexp.MustCompile(`(?i)^\s*(project|status|labels|key|summary|text|issuetype)\s*(=|!=|~|in)\s*(.+?)\s*$`)

// jql understands the JQL the tests and a person would type for an
// import: field = value, !=, ~ and in (…), joined by AND; ORDER BY is
// accepted and ignored.
func (s *Sim) jql(q string) (func(*Issue) bool, error) {
	if i := strings.Index(strings.ToUpper(q), "ORDER BY"); i >= 0 {
		q = q[:i]
	}
	return conjunction(q, func(part string) (func(*Issue) bool, error) {
		m := jqlTerm.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("Error in the JQL Query: the query %q could not be parsed.", part)
		}
		field, op, vals := strings.ToLower(m[1]), strings.ToLower(m[2]), listValues(m[3])
		return func(is *Issue) bool {
			var got []string
			switch field {
			case "project":
				got = []string{s.Scope}
			case "status":
				got = []string{is.Status}
			case "labels":
				got = is.Labels
			case "key":
				got = []string{is.Key}
			case "issuetype":
				got = []string{is.Type}
			case "summary", "text":
				return strings.Contains(strings.ToLower(is.Title+" "+is.Description), strings.ToLower(vals[0]))
			}
			return anyEqual(got, vals) != (op == "!=")
		}, nil
	})
}
