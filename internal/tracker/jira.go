package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// jira speaks Jira Cloud's REST API v3 (basic auth: account email and API
// token; descriptions and comments in ADF) and Jira Data Center's v2
// (bearer personal access token; wiki markup).
type jira struct {
	c Config
}

func (j *jira) cloud() bool { return j.c.Kind == JiraCloud }

func (j *jira) product() string { return j.c.Kind.Label() }

func (j *jira) api(path string) string {
	v := "2"
	if j.cloud() {
		v = "3"
	}
	return j.c.BaseURL + "/rest/api/" + v + path
}

func (j *jira) auth(r *http.Request) {
	if j.cloud() {
		r.SetBasicAuth(j.c.User, j.c.Token)
		return
	}
	r.Header.Set("Authorization", "Bearer "+j.c.Token)
}

func (j *jira) do(ctx context.Context, method, path string, body, out any) error {
	_, err := call(ctx, j.c.HTTP, j.product(), request{method: method, url: j.api(path), body: body, auth: j.auth}, out)
	return err
}

// toText and fromText carry descriptions and comments in the API's format.
func (j *jira) toText(md string) any {
	if j.cloud() {
		return MarkdownToADF(md)
	}
	return MarkdownToWiki(md)
}

func (j *jira) fromText(raw json.RawMessage) string {
	if j.cloud() {
		return ADFToMarkdown(raw)
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return WikiToMarkdown(s)
}

func (j *jira) Test(ctx context.Context) error {
	if u, err := url.Parse(j.c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Error{Code: CodeURL, Msg: "The Jira address must be a web address such as https://acme.atlassian.net."}
	}
	if j.cloud() && !strings.Contains(j.c.User, "@") {
		return &Error{Code: CodeAuth, Msg: "Jira Cloud signs in with the account's email and an API token: enter the email."}
	}
	var me struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
	}
	if err := j.do(ctx, http.MethodGet, "/myself", nil, &me); err != nil {
		return explainTest(err, "Jira")
	}
	var proj struct {
		Key string `json:"key"`
	}
	if err := j.do(ctx, http.MethodGet, "/project/"+url.PathEscape(j.c.Scope), nil, &proj); err != nil {
		if CodeOf(err) == CodeNotFound {
			return &Error{Code: CodeProject, Msg: fmt.Sprintf("Jira has no project %q that this account can see.", j.c.Scope)}
		}
		return err
	}
	var perms struct {
		Permissions map[string]struct {
			Have bool `json:"havePermission"`
		} `json:"permissions"`
	}
	need := []string{"BROWSE_PROJECTS", "EDIT_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES"}
	q := url.Values{"projectKey": {j.c.Scope}, "permissions": {strings.Join(need, ",")}}
	if err := j.do(ctx, http.MethodGet, "/mypermissions?"+q.Encode(), nil, &perms); err != nil {
		return err
	}
	var missing []string
	for _, p := range need {
		if !perms.Permissions[p].Have {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return &Error{Code: CodePermission, Msg: fmt.Sprintf("The account lacks Jira permissions in %s: %s.", j.c.Scope, strings.Join(missing, ", "))}
	}
	return nil
}

// explainTest turns the first call's failure into what a person fixes.
func explainTest(err error, product string) error {
	switch CodeOf(err) {
	case CodeNotFound:
		return &Error{Code: CodeURL, Msg: fmt.Sprintf("No %s REST API at that address (HTTP 404); check the URL.", product)}
	case CodeDown:
		return &Error{Code: CodeURL, Msg: err.Error() + " Check the URL."}
	}
	return err
}

type jiraIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary     string          `json:"summary"`
		Description json.RawMessage `json:"description"`
		Status      struct {
			Name string `json:"name"`
		} `json:"status"`
		Assignee *struct {
			AccountID string `json:"accountId"`
			Name      string `json:"name"`
			Email     string `json:"emailAddress"`
		} `json:"assignee"`
		Labels  []string `json:"labels"`
		Updated string   `json:"updated"`
	} `json:"fields"`
}

const jiraFields = "summary,description,status,assignee,labels,updated"

func (j *jira) issue(x jiraIssue) Issue {
	is := Issue{Key: x.Key, ID: x.ID, URL: j.c.BaseURL + "/browse/" + x.Key, Title: x.Fields.Summary, Description: j.fromText(x.Fields.Description),
		Status: x.Fields.Status.Name, Labels: x.Fields.Labels, Updated: jiraTime(x.Fields.Updated)}
	if a := x.Fields.Assignee; a != nil {
		is.Assignee, is.AssigneeID = a.Email, a.AccountID
		if is.AssigneeID == "" {
			is.AssigneeID = a.Name
		}
	}
	return is
}

// jiraTime reads Jira's timestamps (2026-12-03T10:15:30.000+0000).
func jiraTime(s string) time.Time {
	for _, f := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(f, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (j *jira) Search(ctx context.Context, jql string, limit int) ([]Issue, error) {
	if strings.TrimSpace(jql) == "" {
		jql = "ORDER BY created DESC"
	}
	if !strings.Contains(strings.ToLower(jql), "project") {
		// Keep the search inside the connected project.
		order := ""
		if i := strings.Index(strings.ToUpper(jql), "ORDER BY"); i >= 0 {
			jql, order = jql[:i], " "+jql[i:]
		}
		cond := fmt.Sprintf("project = %q", j.c.Scope)
		if strings.TrimSpace(jql) != "" {
			cond += " AND (" + strings.TrimSpace(jql) + ")"
		}
		jql = cond + order
	}
	var res struct {
		Issues []jiraIssue `json:"issues"`
	}
	body := map[string]any{"jql": jql, "maxResults": limit, "fields": strings.Split(jiraFields, ",")}
	path := "/search"
	if j.cloud() {
		path = "/search/jql" // Cloud's enhanced search; /search is retired there
	}
	if err := j.do(ctx, http.MethodPost, path, body, &res); err != nil {
		if CodeOf(err) == CodeInvalid {
			return nil, &Error{Code: CodeInvalid, Msg: "Jira could not run that JQL: " + strings.TrimPrefix(err.Error(), j.product()+" refused the request (HTTP 400): ")}
		}
		return nil, err
	}
	out := make([]Issue, 0, len(res.Issues))
	for _, x := range res.Issues {
		out = append(out, j.issue(x))
	}
	return out, nil
}

func (j *jira) Get(ctx context.Context, key string) (Issue, error) {
	var x jiraIssue
	if err := j.do(ctx, http.MethodGet, "/issue/"+url.PathEscape(key)+"?fields="+jiraFields, nil, &x); err != nil {
		if CodeOf(err) == CodeNotFound {
			return Issue{}, &Error{Code: CodeNotFound, Status: 404, Msg: fmt.Sprintf("%s was deleted in Jira, or this account can no longer see it.", key)}
		}
		return Issue{}, err
	}
	return j.issue(x), nil
}

func (j *jira) Update(ctx context.Context, key string, p Patch) error {
	f := map[string]any{}
	if p.Title != nil {
		f["summary"] = *p.Title
	}
	if p.Description != nil {
		f["description"] = j.toText(*p.Description)
	}
	if p.Labels != nil {
		ls := make([]string, 0, len(*p.Labels))
		for _, l := range *p.Labels {
			ls = append(ls, strings.ReplaceAll(l, " ", "-")) // Jira labels have no spaces
		}
		f["labels"] = ls
	}
	if p.Assignee != nil {
		if *p.Assignee == "" {
			f["assignee"] = nil
		} else if id, err := j.userByEmail(ctx, *p.Assignee); err != nil {
			return err
		} else if id != nil {
			f["assignee"] = id
		}
	}
	if len(f) == 0 {
		return nil
	}
	return j.do(ctx, http.MethodPut, "/issue/"+url.PathEscape(key), map[string]any{"fields": f}, nil)
}

// userByEmail finds the Jira user with email; nil when there is none
// (the assignee then stays as it is).
func (j *jira) userByEmail(ctx context.Context, email string) (map[string]any, error) {
	q := url.Values{}
	if j.cloud() {
		q.Set("query", email)
	} else {
		q.Set("username", email)
	}
	var users []struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
		Email     string `json:"emailAddress"`
	}
	if err := j.do(ctx, http.MethodGet, "/user/search?"+q.Encode(), nil, &users); err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, email) || len(users) == 1 {
			if j.cloud() {
				return map[string]any{"accountId": u.AccountID}, nil
			}
			return map[string]any{"name": u.Name}, nil
		}
	}
	return nil, nil
}

func (j *jira) Statuses(ctx context.Context) ([]string, error) {
	var types []struct {
		Statuses []struct {
			Name string `json:"name"`
		} `json:"statuses"`
	}
	if err := j.do(ctx, http.MethodGet, "/project/"+url.PathEscape(j.c.Scope)+"/statuses", nil, &types); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range types {
		for _, s := range t.Statuses {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s.Name)
			}
		}
	}
	return out, nil
}

func (j *jira) Transition(ctx context.Context, key, status string) error {
	var res struct {
		Transitions []struct {
			ID string `json:"id"`
			To struct {
				Name string `json:"name"`
			} `json:"to"`
		} `json:"transitions"`
	}
	if err := j.do(ctx, http.MethodGet, "/issue/"+url.PathEscape(key)+"/transitions", nil, &res); err != nil {
		return err
	}
	var names []string
	for _, t := range res.Transitions {
		if strings.EqualFold(t.To.Name, status) {
			return j.do(ctx, http.MethodPost, "/issue/"+url.PathEscape(key)+"/transitions", map[string]any{"transition": map[string]string{"id": t.ID}}, nil)
		}
		names = append(names, t.To.Name)
	}
	return &Error{Code: CodeInvalid, Msg: fmt.Sprintf("Jira's workflow has no transition from %s's status to %q (it can go to: %s).", key, status, strings.Join(names, ", "))}
}

type jiraComment struct {
	ID     string `json:"id"`
	Author struct {
		Name  string `json:"displayName"`
		Email string `json:"emailAddress"`
	} `json:"author"`
	Body    json.RawMessage `json:"body"`
	Created string          `json:"created"`
}

func (j *jira) comment(c jiraComment) Comment {
	return Comment{ID: c.ID, Author: c.Author.Name, Email: c.Author.Email, Body: j.fromText(c.Body), Created: jiraTime(c.Created)}
}

func (j *jira) Comments(ctx context.Context, key string) ([]Comment, error) {
	var out []Comment
	for start := 0; ; {
		var res struct {
			Comments []jiraComment `json:"comments"`
			Total    int           `json:"total"`
		}
		if err := j.do(ctx, http.MethodGet, fmt.Sprintf("/issue/%s/comment?startAt=%d&maxResults=100", url.PathEscape(key), start), nil, &res); err != nil {
			return nil, err
		}
		for _, c := range res.Comments {
			out = append(out, j.comment(c))
		}
		start += len(res.Comments)
		if len(res.Comments) == 0 || start >= res.Total {
			return out, nil
		}
	}
}

func (j *jira) AddComment(ctx context.Context, key, md string) (Comment, error) {
	var c jiraComment
	if err := j.do(ctx, http.MethodPost, "/issue/"+url.PathEscape(key)+"/comment", map[string]any{"body": j.toText(md)}, &c); err != nil {
		return Comment{}, err
	}
	return j.comment(c), nil
}

func (j *jira) Link(ctx context.Context, key, u, title string) error {
	// globalId makes the call idempotent: Jira updates the link it has.
	body := map[string]any{"globalId": "trellis=" + u, "application": map[string]string{"type": "trellis", "name": "Trellis"},
		"object": map[string]any{"url": u, "title": title}}
	return j.do(ctx, http.MethodPost, "/issue/"+url.PathEscape(key)+"/remotelink", body, nil)
}

// Webhook reads a Jira webhook: jira:issue_* and comment_* events carry
// the issue; with a secret, X-Hub-Signature is sha256=HMAC of the body.
func (j *jira) Webhook(r *http.Request, body []byte, secret string) (Event, error) {
	if err := verifyHMAC(secret, r.Header.Get("X-Hub-Signature"), body); err != nil {
		return Event{}, err
	}
	var p struct {
		Event string `json:"webhookEvent"`
		Issue struct {
			Key string `json:"key"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, &Error{Code: CodeInvalid, Msg: "The webhook body is not JSON."}
	}
	if p.Issue.Key == "" {
		return Event{}, nil
	}
	return Event{Keys: []string{p.Issue.Key}, Deleted: p.Event == "jira:issue_deleted"}, nil
}
