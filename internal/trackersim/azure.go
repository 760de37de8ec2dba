package trackersim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/tracker"
)

// Azure DevOps Boards' REST API (7.1) as the tests rely on it, under
// /{organization}:
//   GET   /_apis/projects/{project}                             200 {id, name} | 404 {message}
//   POST  /{project}/_apis/wit/wiql                             {query} → {workItems: [{id, url}]}; bad WIQL 400 {message}
//   GET   /{project}/_apis/wit/workitems?ids=1,2                {count, value: [work item]}
//   GET   /{project}/_apis/wit/workitems/{id}[?$expand=relations]  {id, rev, fields{System.Title, System.Description (HTML),
//                                                               System.State, System.AssignedTo{displayName,uniqueName},
//                                                               System.Tags "a; b", System.ChangedDate}, relations, _links.html.href}
//   PATCH /{project}/_apis/wit/workitems/{id}                   application/json-patch+json [{op, path, value}] → 200 work item
//   GET   /{project}/_apis/wit/workitemtypes                    {value: [{name, states: [{name, category}]}]}
//   GET|POST /{project}/_apis/wit/workItems/{id}/comments       (7.1-preview.4) {totalCount, comments: [{id, text, createdBy, createdDate}]}
// Every call carries api-version; auth is basic with the PAT as password;
// a deleted work item is 404.

func (s *Sim) azureItem(is *Issue, base string) map[string]any {
	org, proj, _ := strings.Cut(s.Scope, "/")
	f := map[string]any{"System.Id": is.Num, "System.Title": is.Title, "System.Description": tracker.MarkdownToHTML(is.Description), "System.State": is.Status,
		"System.WorkItemType": is.Type, "System.Tags": strings.Join(is.Labels, "; "), "System.ChangedDate": is.Updated.Format(time.RFC3339Nano), "System.TeamProject": proj}
	if is.Assignee != "" {
		f["System.AssignedTo"] = map[string]any{"displayName": is.Assignee, "uniqueName": is.Assignee}
	}
	var rels []any
	for _, l := range is.Links {
		rels = append(rels, map[string]any{"rel": "Hyperlink", "url": l, "attributes": map[string]any{"comment": "Trellis"}})
	}
	return map[string]any{"id": is.Num, "rev": 1, "fields": f, "relations": rels,
		"_links": map[string]any{"html": map[string]string{"href": fmt.Sprintf("%s/%s/%s/_workitems/edit/%d", base, org, proj, is.Num)}}}
}

func adoError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "message": msg, "typeKey": "VssServiceException", "errorCode": 0})
}

func (s *Sim) azure(w http.ResponseWriter, r *http.Request) {
	org, proj, _ := strings.Cut(s.Scope, "/")
	base := "http://" + r.Host
	if r.URL.Query().Get("api-version") == "" {
		adoError(w, 400, "No api-version was supplied for the request. Please supply an api-version.")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/"+org)
	if p == r.URL.Path {
		adoError(w, 404, "The organization could not be found.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(p, "/_apis/projects/") {
		if strings.TrimPrefix(p, "/_apis/projects/") != proj {
			adoError(w, 404, fmt.Sprintf("TF200016: The following project does not exist: %s.", strings.TrimPrefix(p, "/_apis/projects/")))
			return
		}
		writeJSON(w, 200, map[string]any{"id": "p-1", "name": proj, "state": "wellFormed"})
		return
	}
	p, ok := strings.CutPrefix(p, "/"+proj+"/_apis/wit")
	if !ok {
		adoError(w, 404, "The resource cannot be found.")
		return
	}
	if r.Method != http.MethodGet && s.readOnly && p != "/wiql" {
		adoError(w, 403, "TF237111: The current user does not have permissions to save work items under the specified area path.")
		return
	}
	switch {
	case p == "/wiql" && r.Method == http.MethodPost:
		var q struct {
			Query string `json:"query"`
		}
		_ = decode(r, &q)
		match, err := wiql(q.Query)
		if err != nil {
			adoError(w, 400, err.Error())
			return
		}
		top, _ := strconv.Atoi(r.URL.Query().Get("$top"))
		refs := []any{}
		for _, is := range s.sorted() {
			if match(is) && (top == 0 || len(refs) < top) {
				refs = append(refs, map[string]any{"id": is.Num, "url": fmt.Sprintf("%s/%s/%s/_apis/wit/workItems/%d", base, org, proj, is.Num)})
			}
		}
		writeJSON(w, 200, map[string]any{"queryType": "flat", "workItems": refs})
	case p == "/workitems" && r.Method == http.MethodGet:
		var out []any
		for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
			if is := s.live(s.adoKey(id)); is != nil {
				out = append(out, s.azureItem(is, base))
			}
		}
		writeJSON(w, 200, map[string]any{"count": len(out), "value": out})
	case p == "/workitemtypes":
		var st []any
		for _, x := range s.statuses {
			st = append(st, map[string]string{"name": x})
		}
		writeJSON(w, 200, map[string]any{"count": 1, "value": []any{map[string]any{"name": "User Story", "states": st}}})
	case strings.HasPrefix(p, "/workitems/") || strings.HasPrefix(p, "/workItems/"):
		rest := strings.Split(strings.TrimPrefix(strings.TrimPrefix(p, "/workitems/"), "/workItems/"), "/")
		is := s.live(s.adoKey(rest[0]))
		if is == nil {
			adoError(w, 404, fmt.Sprintf("TF401232: Work item %s does not exist, or you do not have permissions to read it.", rest[0]))
			return
		}
		if len(rest) == 2 && rest[1] == "comments" {
			s.adoComments(w, r, is)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, s.azureItem(is, base))
		case http.MethodPatch:
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json-patch+json") {
				adoError(w, 415, "The request indicated a Content-Type of \""+r.Header.Get("Content-Type")+"\" for method type \"PATCH\" which is not supported. Valid content types for this method are: application/json-patch+json.")
				return
			}
			var ops []struct {
				Op    string          `json:"op"`
				Path  string          `json:"path"`
				Value json.RawMessage `json:"value"`
			}
			if err := decode(r, &ops); err != nil {
				adoError(w, 400, "You must pass a valid patch document in the body of the request.")
				return
			}
			for _, op := range ops {
				var v string
				_ = json.Unmarshal(op.Value, &v)
				switch op.Path {
				case "/fields/System.Title":
					is.Title = v
				case "/fields/System.Description":
					is.Description = tracker.HTMLToMarkdown(v)
				case "/fields/System.State":
					if !hasLabel(s.statuses, v) {
						adoError(w, 400, fmt.Sprintf("TF401320: Rule Error for field State. Error code: InvalidListValue. The value %q is not in the list of supported values.", v))
						return
					}
					is.Status = v
				case "/fields/System.Tags":
					is.Labels = nil
					for _, t := range strings.Split(v, ";") {
						if t = strings.TrimSpace(t); t != "" {
							is.Labels = append(is.Labels, t)
						}
					}
				case "/fields/System.AssignedTo":
					is.Assignee = v
				case "/relations/-":
					var rel struct {
						URL string `json:"url"`
					}
					_ = json.Unmarshal(op.Value, &rel)
					if hasLabel(is.Links, rel.URL) {
						adoError(w, 400, "Relation already exists.")
						return
					}
					is.Links = append(is.Links, rel.URL)
				default:
					adoError(w, 400, "TF51535: Cannot find field "+strings.TrimPrefix(op.Path, "/fields/")+".")
					return
				}
			}
			is.Updated = s.tick()
			writeJSON(w, 200, s.azureItem(is, base))
		default:
			adoError(w, 405, "Method not allowed")
		}
	default:
		adoError(w, 404, "The resource cannot be found.")
	}
}

func (s *Sim) adoKey(id string) string { return strings.TrimSpace(id) }

func (s *Sim) adoComments(w http.ResponseWriter, r *http.Request, is *Issue) {
	one := func(c Comment) map[string]any {
		return map[string]any{"id": c.ID, "workItemId": is.Num, "text": tracker.MarkdownToHTML(c.Body),
			"createdBy": map[string]string{"displayName": c.Author, "uniqueName": c.Email}, "createdDate": c.Created.Format(time.RFC3339Nano)}
	}
	if r.Method == http.MethodPost {
		var body struct {
			Text string `json:"text"`
		}
		if err := decode(r, &body); err != nil || strings.TrimSpace(body.Text) == "" {
			adoError(w, 400, "The comment text is required.")
			return
		}
		s.commentID++
		c := Comment{ID: s.commentID, Author: "Trellis Bot", Email: s.User, Body: tracker.HTMLToMarkdown(body.Text), Created: s.tick()}
		is.Comments = append(is.Comments, c)
		writeJSON(w, 200, one(c))
		return
	}
	cs := []any{}
	for _, c := range is.Comments {
		cs = append(cs, one(c))
	}
	writeJSON(w, 200, map[string]any{"totalCount": len(cs), "count": len(cs), "comments": cs})
}

var wiqlTerm = regexp.MustCompile(`(?i)^\s*\[(System\.\w+)\]\s*(=|<>|CONTAINS|IN)\s*(.+?)\s*$`)

// wiql understands SELECT … FROM WorkItems WHERE conditions joined by AND
// on Id, State, WorkItemType, Title, Tags and TeamProject.
func wiql(q string) (func(*Issue) bool, error) {
	u := strings.ToUpper(q)
	if !strings.HasPrefix(strings.TrimSpace(u), "SELECT") || !strings.Contains(u, "FROM WORKITEMS") {
		return nil, fmt.Errorf("TF51005: The query references a field or syntax that is not valid: %q.", q)
	}
	where := ""
	if i := strings.Index(u, " WHERE "); i >= 0 {
		where = q[i+7:]
	}
	if i := strings.Index(strings.ToUpper(where), "ORDER BY"); i >= 0 {
		where = where[:i]
	}
	return conjunction(where, func(part string) (func(*Issue) bool, error) {
		m := wiqlTerm.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("TF51006: The query statement is missing or has an invalid clause near %q.", part)
		}
		field, op, vals := m[1], strings.ToUpper(m[2]), listValues(m[3])
		return func(is *Issue) bool {
			var got string
			switch field {
			case "System.TeamProject":
				return true
			case "System.Id":
				got = strconv.Itoa(is.Num)
			case "System.State":
				got = is.Status
			case "System.WorkItemType":
				got = is.Type
			case "System.Title":
				got = is.Title
			case "System.Tags":
				got = strings.Join(is.Labels, "; ")
			}
			if op == "CONTAINS" {
				return strings.Contains(strings.ToLower(got), strings.ToLower(vals[0]))
			}
			return anyEqual([]string{got}, vals) != (op == "<>")
		}, nil
	})
}
