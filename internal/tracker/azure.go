package tracker

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// azure speaks Azure DevOps Boards' REST API 7.1 (basic auth with an
// empty user and a personal access token; descriptions and comments in
// HTML; changes as JSON Patch).
type azure struct {
	c            Config
	org, project string
}

const adoVersion = "api-version=7.1"

func (a *azure) base() string {
	if a.c.BaseURL == "" {
		return "https://dev.azure.com"
	}
	return a.c.BaseURL
}

func (a *azure) url(path string, q string) string {
	u := a.base() + "/" + url.PathEscape(a.org) + "/" + url.PathEscape(a.project) + "/_apis" + path + "?" + adoVersion
	if q != "" {
		u += "&" + q
	}
	return u
}

func (a *azure) auth(r *http.Request) { r.SetBasicAuth("", a.c.Token) }

func (a *azure) do(ctx context.Context, method, u string, body, out any, ct string) error {
	_, err := call(ctx, a.c.HTTP, "Azure DevOps", request{method: method, url: u, body: body, contentType: ct, auth: a.auth}, out)
	return err
}

func (a *azure) Test(ctx context.Context) error {
	if u, err := url.Parse(a.base()); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Error{Code: CodeURL, Msg: "The Azure DevOps address must be a web address such as https://dev.azure.com."}
	}
	var p struct {
		Name string `json:"name"`
	}
	u := a.base() + "/" + url.PathEscape(a.org) + "/_apis/projects/" + url.PathEscape(a.project) + "?" + adoVersion
	if err := a.do(ctx, http.MethodGet, u, nil, &p, ""); err != nil {
		if CodeOf(err) == CodeNotFound {
			return &Error{Code: CodeProject, Msg: fmt.Sprintf("Azure DevOps organization %q has no project %q that this token can see.", a.org, a.project)}
		}
		return explainTest(err, "Azure DevOps")
	}
	// Reading work items is the permission every sync needs first.
	q := map[string]string{"query": "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Id] = 0"}
	if err := a.do(ctx, http.MethodPost, a.url("/wit/wiql", ""), q, &struct{}{}, ""); err != nil {
		if CodeOf(err) == CodePermission || CodeOf(err) == CodeAuth {
			return &Error{Code: CodePermission, Msg: "The token may not read work items: give it the Work Items (Read & write) scope."}
		}
		return err
	}
	return nil
}

type adoItem struct {
	ID     int            `json:"id"`
	Fields map[string]any `json:"fields"`
	Links  struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"_links"`
	Relations []struct {
		Rel string `json:"rel"`
		URL string `json:"url"`
	} `json:"relations"`
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func (a *azure) issue(x adoItem) Issue {
	is := Issue{Key: strconv.Itoa(x.ID), ID: strconv.Itoa(x.ID), URL: x.Links.HTML.Href, Title: str(x.Fields, "System.Title"),
		Description: HTMLToMarkdown(str(x.Fields, "System.Description")), Status: str(x.Fields, "System.State")}
	if is.URL == "" {
		is.URL = a.base() + "/" + url.PathEscape(a.org) + "/" + url.PathEscape(a.project) + "/_workitems/edit/" + is.Key
	}
	if as, ok := x.Fields["System.AssignedTo"].(map[string]any); ok {
		is.Assignee, _ = as["uniqueName"].(string)
		is.AssigneeID = is.Assignee
	}
	for _, t := range strings.Split(str(x.Fields, "System.Tags"), ";") {
		if t = strings.TrimSpace(t); t != "" {
			is.Labels = append(is.Labels, t)
		}
	}
	is.Updated, _ = time.Parse(time.RFC3339Nano, str(x.Fields, "System.ChangedDate"))
	return is
}

func (a *azure) Search(ctx context.Context, cond string, limit int) ([]Issue, error) {
	cond = strings.TrimSpace(cond)
	q := cond
	if !strings.HasPrefix(strings.ToUpper(cond), "SELECT") {
		q = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project"
		if cond != "" {
			q += " AND (" + cond + ")"
		}
		q += " ORDER BY [System.ChangedDate] DESC"
	}
	var res struct {
		WorkItems []struct {
			ID int `json:"id"`
		} `json:"workItems"`
	}
	if err := a.do(ctx, http.MethodPost, a.url("/wit/wiql", "$top="+strconv.Itoa(limit)), map[string]string{"query": q}, &res, ""); err != nil {
		if CodeOf(err) == CodeInvalid {
			return nil, &Error{Code: CodeInvalid, Msg: "Azure DevOps could not run that WIQL: " + err.Error()}
		}
		return nil, err
	}
	if len(res.WorkItems) == 0 {
		return nil, nil
	}
	var ids []string
	for i, w := range res.WorkItems {
		if i == limit || i == 200 { // the batch read takes at most 200 ids
			break
		}
		ids = append(ids, strconv.Itoa(w.ID))
	}
	var items struct {
		Value []adoItem `json:"value"`
	}
	if err := a.do(ctx, http.MethodGet, a.url("/wit/workitems", "ids="+strings.Join(ids, ",")+"&errorPolicy=omit"), nil, &items, ""); err != nil {
		return nil, err
	}
	out := make([]Issue, 0, len(items.Value))
	for _, x := range items.Value {
		if x.ID != 0 {
			out = append(out, a.issue(x))
		}
	}
	return out, nil
}

func (a *azure) id(key string) (string, error) {
	if _, err := strconv.Atoi(key); err != nil {
		return "", &Error{Code: CodeInvalid, Msg: fmt.Sprintf("%q is not an Azure DevOps work item id (a number).", key)}
	}
	return key, nil
}

func (a *azure) get(ctx context.Context, key string, expand string) (adoItem, error) {
	id, err := a.id(key)
	if err != nil {
		return adoItem{}, err
	}
	var x adoItem
	if err := a.do(ctx, http.MethodGet, a.url("/wit/workitems/"+id, expand), nil, &x, ""); err != nil {
		if CodeOf(err) == CodeNotFound {
			return x, &Error{Code: CodeNotFound, Status: 404, Msg: fmt.Sprintf("Work item %s was deleted in Azure DevOps, or this token can no longer see it.", key)}
		}
		return x, err
	}
	return x, nil
}

func (a *azure) Get(ctx context.Context, key string) (Issue, error) {
	x, err := a.get(ctx, key, "")
	if err != nil {
		return Issue{}, err
	}
	return a.issue(x), nil
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

func (a *azure) patch(ctx context.Context, key string, ops []patchOp) error {
	id, err := a.id(key)
	if err != nil {
		return err
	}
	return a.do(ctx, http.MethodPatch, a.url("/wit/workitems/"+id, ""), ops, nil, "application/json-patch+json")
}

func (a *azure) Update(ctx context.Context, key string, p Patch) error {
	var ops []patchOp
	if p.Title != nil {
		ops = append(ops, patchOp{"add", "/fields/System.Title", *p.Title})
	}
	if p.Description != nil {
		ops = append(ops, patchOp{"add", "/fields/System.Description", MarkdownToHTML(*p.Description)})
	}
	if p.Labels != nil {
		ops = append(ops, patchOp{"add", "/fields/System.Tags", strings.Join(*p.Labels, "; ")})
	}
	if p.Assignee != nil {
		ops = append(ops, patchOp{"add", "/fields/System.AssignedTo", *p.Assignee})
	}
	if len(ops) == 0 {
		return nil
	}
	return a.patch(ctx, key, ops)
}

func (a *azure) Statuses(ctx context.Context) ([]string, error) {
	var res struct {
		Value []struct {
			States []struct {
				Name string `json:"name"`
			} `json:"states"`
		} `json:"value"`
	}
	if err := a.do(ctx, http.MethodGet, a.url("/wit/workitemtypes", ""), nil, &res, ""); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range res.Value {
		for _, s := range t.States {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s.Name)
			}
		}
	}
	return out, nil
}

func (a *azure) Transition(ctx context.Context, key, status string) error {
	return a.patch(ctx, key, []patchOp{{"add", "/fields/System.State", status}})
}

type adoComment struct {
	ID        int    `json:"id"`
	Text      string `json:"text"`
	CreatedBy struct {
		Name   string `json:"displayName"`
		Unique string `json:"uniqueName"`
	} `json:"createdBy"`
	Created string `json:"createdDate"`
}

func (a *azure) comment(c adoComment) Comment {
	t, _ := time.Parse(time.RFC3339Nano, c.Created)
	return Comment{ID: strconv.Itoa(c.ID), Author: c.CreatedBy.Name, Email: c.CreatedBy.Unique, Body: HTMLToMarkdown(c.Text), Created: t}
}

// The comments API is still a preview version in 7.1.
const adoCommentsVersion = "api-version=7.1-preview.4"

func (a *azure) commentsURL(id, q string) string {
	u := a.base() + "/" + url.PathEscape(a.org) + "/" + url.PathEscape(a.project) + "/_apis/wit/workItems/" + id + "/comments?" + adoCommentsVersion
	if q != "" {
		u += "&" + q
	}
	return u
}

func (a *azure) Comments(ctx context.Context, key string) ([]Comment, error) {
	id, err := a.id(key)
	if err != nil {
		return nil, err
	}
	var out []Comment
	token := ""
	for {
		q := "$top=200&order=asc"
		if token != "" {
			q += "&continuationToken=" + url.QueryEscape(token)
		}
		var res struct {
			Comments []adoComment `json:"comments"`
			Next     string       `json:"continuationToken"`
		}
		if err := a.do(ctx, http.MethodGet, a.commentsURL(id, q), nil, &res, ""); err != nil {
			return nil, err
		}
		for _, c := range res.Comments {
			out = append(out, a.comment(c))
		}
		if res.Next == "" || len(res.Comments) == 0 {
			return out, nil
		}
		token = res.Next
	}
}

func (a *azure) AddComment(ctx context.Context, key, md string) (Comment, error) {
	id, err := a.id(key)
	if err != nil {
		return Comment{}, err
	}
	var c adoComment
	if err := a.do(ctx, http.MethodPost, a.commentsURL(id, ""), map[string]string{"text": MarkdownToHTML(md)}, &c, ""); err != nil {
		return Comment{}, err
	}
	return a.comment(c), nil
}

func (a *azure) Link(ctx context.Context, key, u, title string) error {
	x, err := a.get(ctx, key, "$expand=relations")
	if err != nil {
		return err
	}
	for _, r := range x.Relations {
		if r.Rel == "Hyperlink" && r.URL == u {
			return nil
		}
	}
	return a.patch(ctx, key, []patchOp{{"add", "/relations/-", map[string]any{"rel": "Hyperlink", "url": u, "attributes": map[string]string{"comment": title}}}})
}

// Webhook reads an Azure DevOps service hook: the subscription sends the
// secret as the basic-auth password (Azure DevOps does not sign bodies).
func (a *azure) Webhook(r *http.Request, body []byte, secret string) (Event, error) {
	_, pw, ok := r.BasicAuth()
	if secret == "" || !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(secret)) != 1 {
		return Event{}, &Error{Code: CodeSignature, Msg: "The service hook's basic-auth password does not match the connection's secret."}
	}
	var p struct {
		EventType string `json:"eventType"`
		Resource  struct {
			ID         int `json:"id"`
			WorkItemID int `json:"workItemId"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, &Error{Code: CodeInvalid, Msg: "The service hook body is not JSON."}
	}
	id := p.Resource.WorkItemID
	if id == 0 && (p.EventType == "workitem.created" || p.EventType == "workitem.deleted" || p.EventType == "workitem.restored" || p.EventType == "workitem.commented") {
		id = p.Resource.ID
	}
	if id == 0 {
		return Event{}, nil
	}
	return Event{Keys: []string{strconv.Itoa(id)}, Deleted: p.EventType == "workitem.deleted"}, nil
}
