package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// github speaks GitHub's REST API (bearer token; Markdown bodies).
type github struct {
	c           Config
	owner, repo string
}

func (g *github) base() string {
	if g.c.BaseURL == "" {
		return "https://api.github.com"
	}
	return g.c.BaseURL
}

func (g *github) auth(r *http.Request) { r.Header.Set("Authorization", "Bearer "+g.c.Token) }

var githubHeaders = map[string]string{"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

func (g *github) do(ctx context.Context, method, path string, body, out any) error {
	_, err := call(ctx, g.c.HTTP, "GitHub", request{method: method, url: g.base() + path, body: body, auth: g.auth, headers: githubHeaders}, out)
	return err
}

func (g *github) repoPath() string {
	return "/repos/" + url.PathEscape(g.owner) + "/" + url.PathEscape(g.repo)
}

func (g *github) Test(ctx context.Context) error {
	if u, err := url.Parse(g.base()); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Error{Code: CodeURL, Msg: "The GitHub API address must be a web address such as https://api.github.com."}
	}
	var me struct {
		Login string `json:"login"`
	}
	if err := g.do(ctx, http.MethodGet, "/user", nil, &me); err != nil {
		return explainTest(err, "GitHub")
	}
	var repo struct {
		HasIssues   bool `json:"has_issues"`
		Permissions struct {
			Push   bool `json:"push"`
			Triage bool `json:"triage"`
		} `json:"permissions"`
	}
	if err := g.do(ctx, http.MethodGet, g.repoPath(), nil, &repo); err != nil {
		if CodeOf(err) == CodeNotFound {
			return &Error{Code: CodeProject, Msg: fmt.Sprintf("GitHub has no repository %s/%s that this token can see.", g.owner, g.repo)}
		}
		return err
	}
	if !repo.HasIssues {
		return &Error{Code: CodeProject, Msg: fmt.Sprintf("Issues are turned off in %s/%s.", g.owner, g.repo)}
	}
	if !repo.Permissions.Push && !repo.Permissions.Triage {
		return &Error{Code: CodePermission, Msg: fmt.Sprintf("The token can read %s/%s but not change its issues: it needs triage or write access (Issues: read and write).", g.owner, g.repo)}
	}
	return nil
}

type ghIssue struct {
	Number int    `json:"number"`
	ID     int64  `json:"id"`
	URL    string `json:"html_url"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	State  string `json:"state"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Assignees []struct {
		Login string `json:"login"`
		Email string `json:"email"`
	} `json:"assignees"`
	Updated time.Time `json:"updated_at"`
}

func (g *github) issue(x ghIssue) Issue {
	is := Issue{Key: strconv.Itoa(x.Number), ID: strconv.FormatInt(x.ID, 10), URL: x.URL, Title: x.Title, Description: x.Body, Status: x.State, Updated: x.Updated}
	for _, l := range x.Labels {
		is.Labels = append(is.Labels, l.Name)
	}
	if len(x.Assignees) > 0 {
		is.AssigneeID, is.Assignee = x.Assignees[0].Login, x.Assignees[0].Email
	}
	return is
}

func (g *github) number(key string) (string, error) {
	k := strings.TrimPrefix(strings.TrimSpace(key), "#")
	if _, err := strconv.Atoi(k); err != nil {
		return "", &Error{Code: CodeInvalid, Msg: fmt.Sprintf("%q is not a GitHub issue number.", key)}
	}
	return k, nil
}

func (g *github) Search(ctx context.Context, q string, limit int) ([]Issue, error) {
	full := fmt.Sprintf("repo:%s/%s is:issue %s", g.owner, g.repo, strings.TrimSpace(q))
	var res struct {
		Items []ghIssue `json:"items"`
	}
	v := url.Values{"q": {strings.TrimSpace(full)}, "per_page": {strconv.Itoa(min(limit, 100))}, "sort": {"updated"}}
	if err := g.do(ctx, http.MethodGet, "/search/issues?"+v.Encode(), nil, &res); err != nil {
		if CodeOf(err) == CodeInvalid {
			return nil, &Error{Code: CodeInvalid, Msg: "GitHub could not run that search: " + err.Error()}
		}
		return nil, err
	}
	out := make([]Issue, 0, len(res.Items))
	for _, x := range res.Items {
		out = append(out, g.issue(x))
	}
	return out, nil
}

func (g *github) Get(ctx context.Context, key string) (Issue, error) {
	n, err := g.number(key)
	if err != nil {
		return Issue{}, err
	}
	var x ghIssue
	if err := g.do(ctx, http.MethodGet, g.repoPath()+"/issues/"+n, nil, &x); err != nil {
		if CodeOf(err) == CodeNotFound {
			return Issue{}, &Error{Code: CodeNotFound, Status: 404, Msg: fmt.Sprintf("Issue #%s was deleted or transferred on GitHub, or this token can no longer see it.", n)}
		}
		return Issue{}, err
	}
	return g.issue(x), nil
}

func (g *github) Update(ctx context.Context, key string, p Patch) error {
	n, err := g.number(key)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if p.Title != nil {
		body["title"] = *p.Title
	}
	if p.Description != nil {
		body["body"] = *p.Description
	}
	if p.Labels != nil {
		body["labels"] = append([]string{}, *p.Labels...)
	}
	if p.Assignee != nil {
		if *p.Assignee == "" {
			body["assignees"] = []string{}
		} else if login, err := g.loginByEmail(ctx, *p.Assignee); err != nil {
			return err
		} else if login != "" {
			body["assignees"] = []string{login}
		}
	}
	if len(body) == 0 {
		return nil
	}
	return g.do(ctx, http.MethodPatch, g.repoPath()+"/issues/"+n, body, nil)
}

// loginByEmail finds the GitHub account whose public email is email;
// "" when there is none (the assignee stays).
func (g *github) loginByEmail(ctx context.Context, email string) (string, error) {
	var res struct {
		Items []struct {
			Login string `json:"login"`
		} `json:"items"`
	}
	if err := g.do(ctx, http.MethodGet, "/search/users?"+url.Values{"q": {email + " in:email"}}.Encode(), nil, &res); err != nil {
		return "", err
	}
	if len(res.Items) == 1 {
		return res.Items[0].Login, nil
	}
	return "", nil
}

func (g *github) Statuses(context.Context) ([]string, error) { return []string{"open", "closed"}, nil }

func (g *github) Transition(ctx context.Context, key, status string) error {
	n, err := g.number(key)
	if err != nil {
		return err
	}
	s := strings.ToLower(status)
	if s != "open" && s != "closed" {
		return &Error{Code: CodeInvalid, Msg: fmt.Sprintf("A GitHub issue is open or closed, not %q.", status)}
	}
	return g.do(ctx, http.MethodPatch, g.repoPath()+"/issues/"+n, map[string]string{"state": s}, nil)
}

type ghComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
	Created time.Time `json:"created_at"`
}

func (g *github) Comments(ctx context.Context, key string) ([]Comment, error) {
	n, err := g.number(key)
	if err != nil {
		return nil, err
	}
	var out []Comment
	for page := 1; ; page++ {
		var cs []ghComment
		if err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/issues/%s/comments?per_page=100&page=%d", g.repoPath(), n, page), nil, &cs); err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, Comment{ID: strconv.FormatInt(c.ID, 10), Author: c.User.Login, Body: c.Body, Created: c.Created})
		}
		if len(cs) < 100 {
			return out, nil
		}
	}
}

func (g *github) AddComment(ctx context.Context, key, md string) (Comment, error) {
	n, err := g.number(key)
	if err != nil {
		return Comment{}, err
	}
	var c ghComment
	if err := g.do(ctx, http.MethodPost, g.repoPath()+"/issues/"+n+"/comments", map[string]string{"body": md}, &c); err != nil {
		return Comment{}, err
	}
	return Comment{ID: strconv.FormatInt(c.ID, 10), Author: c.User.Login, Body: c.Body, Created: c.Created}, nil
}

// Link: GitHub issues have no remote links, so Trellis says where the
// issue is tracked in a comment, once.
func (g *github) Link(ctx context.Context, key, u, title string) error {
	cs, err := g.Comments(ctx, key)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if strings.Contains(c.Body, u) {
			return nil
		}
	}
	_, err = g.AddComment(ctx, key, fmt.Sprintf("Tracked in Trellis: [%s](%s)", title, u))
	return err
}

// Webhook reads a GitHub delivery: X-Hub-Signature-256 is sha256=HMAC of
// the body; issues and issue_comment events carry the issue.
func (g *github) Webhook(r *http.Request, body []byte, secret string) (Event, error) {
	if err := verifyHMAC(secret, r.Header.Get("X-Hub-Signature-256"), body); err != nil {
		return Event{}, err
	}
	var p struct {
		Action string `json:"action"`
		Issue  struct {
			Number int `json:"number"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, &Error{Code: CodeInvalid, Msg: "The webhook body is not JSON."}
	}
	if p.Issue.Number == 0 {
		return Event{}, nil // ping and other events
	}
	ev := r.Header.Get("X-GitHub-Event")
	return Event{Keys: []string{strconv.Itoa(p.Issue.Number)}, Deleted: ev == "issues" && (p.Action == "deleted" || p.Action == "transferred")}, nil
}
