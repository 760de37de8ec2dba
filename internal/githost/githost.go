// Package githost speaks to the pull-request APIs of the git hosts teams
// use, so a promotion can open a pull (merge) request, report its
// validation as a commit status and notice or make the merge: GitHub
// (REST v3, also GitHub Enterprise and Gitea/Forgejo, which follow it),
// GitLab (REST v4), Bitbucket Cloud (REST 2.0) and Azure Repos (REST 7.1).
// The host is told from the remote's URL, or named.
package githost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// PR is a pull request to open.
type PR struct {
	Title, Body string
	Head, Base  string // branches: merge Head into Base
}

// PullRequest is an opened pull request.
type PullRequest struct {
	Number int    `json:"number"`
	URL    string `json:"url"` // its page on the host
}

// PullState is where a pull request stands.
type PullState struct {
	Open, Merged bool
	MergeCommit  string
}

// Status is a commit status (GitHub) or pipeline status (GitLab) for a
// validation.
type Status struct {
	State       string // pending, success, failure, error
	Context     string // e.g. trellis/validation
	Description string
	TargetURL   string
}

// Host is a git host's pull-request API for one repository.
type Host interface {
	Name() string
	OpenPullRequest(ctx context.Context, pr PR) (PullRequest, error)
	SetStatus(ctx context.Context, sha string, s Status) error
	PullRequest(ctx context.Context, number int) (PullState, error)
	Merge(ctx context.Context, number int, message string) (string, error)
}

// Error is a host's refusal, with its HTTP status and message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("the git host answered %d: %s", e.Status, e.Message)
}

// ErrUnknownHost is returned for a remote whose host has no known API.
var ErrUnknownHost = errors.New("no pull-request API is known for this git host")

// Options name the host and its API when the URL does not say (a
// self-hosted GitLab or GitHub Enterprise).
type Options struct {
	Kind    string // github, gitlab, bitbucket or azure; "" tells from the URL
	APIBase string // e.g. https://git.example.com/api/v3; "" for the host's default
	Client  *http.Client
}

// For returns the API of the repository at remote (an https URL), using
// token.
func For(remote, token string, o Options) (Host, error) {
	u, err := url.Parse(remote)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a repository URL", remote)
	}
	path := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	kind := o.Kind
	if kind == "" {
		switch {
		case u.Hostname() == "github.com":
			kind = "github"
		case u.Hostname() == "gitlab.com" || strings.HasPrefix(u.Hostname(), "gitlab."):
			kind = "gitlab"
		case u.Hostname() == "bitbucket.org":
			kind = "bitbucket"
		case u.Hostname() == "dev.azure.com" || strings.HasSuffix(u.Hostname(), ".visualstudio.com"):
			kind = "azure"
		default:
			return nil, ErrUnknownHost
		}
	}
	c := o.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	api := &api{client: c}
	switch kind {
	case "github":
		owner, repo, ok := strings.Cut(path, "/")
		if !ok || strings.Contains(repo, "/") {
			return nil, fmt.Errorf("%q does not name owner/repository", remote)
		}
		api.base = o.APIBase
		if api.base == "" {
			api.base = "https://api.github.com"
		}
		api.auth = func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Accept", "application/vnd.github+json")
			r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		}
		return &github{api: api, repo: "/repos/" + owner + "/" + repo}, nil
	case "gitlab":
		api.base = o.APIBase
		if api.base == "" {
			api.base = u.Scheme + "://" + u.Host + "/api/v4"
		}
		api.auth = func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", token) }
		return &gitlab{api: api, project: "/projects/" + url.PathEscape(path)}, nil
	case "bitbucket":
		ws, slug, ok := strings.Cut(path, "/")
		if !ok || strings.Contains(slug, "/") {
			return nil, fmt.Errorf("%q does not name workspace/repository", remote)
		}
		api.base = o.APIBase
		if api.base == "" {
			api.base = "https://api.bitbucket.org/2.0"
		}
		api.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
		return &bitbucket{api: api, repo: "/repositories/" + ws + "/" + slug, web: "https://bitbucket.org/" + ws + "/" + slug}, nil
	case "azure":
		// https://dev.azure.com/{org}/{project}/_git/{repo}
		parts := strings.Split(path, "/")
		if len(parts) != 4 || parts[2] != "_git" {
			return nil, fmt.Errorf("%q does not name organisation/project/_git/repository", remote)
		}
		api.base = o.APIBase
		if api.base == "" {
			api.base = "https://dev.azure.com"
		}
		api.auth = func(r *http.Request) { r.SetBasicAuth("", token) } // a personal access token
		web := u.Scheme + "://" + u.Host + "/" + parts[0] + "/" + parts[1] + "/_git/" + parts[3]
		return &azure{api: api, repo: "/" + parts[0] + "/" + parts[1] + "/_apis/git/repositories/" + parts[3], web: web}, nil
	}
	return nil, ErrUnknownHost
}

type api struct {
	client *http.Client
	base   string
	auth   func(*http.Request) // the host's way of presenting the token
}

func (a *api) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.base, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	a.auth(req)
	res, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("the git host could not be reached: %w", err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if res.StatusCode >= 300 {
		var e struct {
			Message any `json:"message"`
			Error   any `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		msg := ""
		switch x := e.Error.(type) {
		case string:
			msg = x
		case map[string]any: // Bitbucket: {"error": {"message": …}}
			msg = fmt.Sprint(x["message"])
		}
		switch m := e.Message.(type) {
		case string:
			msg = m
		case []any: // GitLab lists its reasons
			var parts []string
			for _, x := range m {
				parts = append(parts, fmt.Sprint(x))
			}
			msg = strings.Join(parts, "; ")
		}
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		return &Error{Status: res.StatusCode, Message: msg}
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

type github struct {
	*api
	repo string
}

func (g *github) Name() string { return "GitHub" }

func (g *github) OpenPullRequest(ctx context.Context, pr PR) (PullRequest, error) {
	var out struct {
		Number  int    `json:"number"`
		HTMLURL string `json:"html_url"`
	}
	err := g.do(ctx, http.MethodPost, g.repo+"/pulls", map[string]string{"title": pr.Title, "body": pr.Body, "head": pr.Head, "base": pr.Base}, &out)
	return PullRequest{Number: out.Number, URL: out.HTMLURL}, err
}

func (g *github) SetStatus(ctx context.Context, sha string, s Status) error {
	state := s.State // pending, success, failure, error: GitHub's own words
	return g.do(ctx, http.MethodPost, g.repo+"/statuses/"+sha, map[string]string{"state": state, "context": s.Context,
		"description": truncate(s.Description, 140), "target_url": s.TargetURL}, nil)
}

func (g *github) PullRequest(ctx context.Context, number int) (PullState, error) {
	var out struct {
		State          string `json:"state"`
		Merged         bool   `json:"merged"`
		MergeCommitSHA string `json:"merge_commit_sha"`
	}
	err := g.do(ctx, http.MethodGet, g.repo+"/pulls/"+strconv.Itoa(number), nil, &out)
	st := PullState{Open: out.State == "open", Merged: out.Merged}
	if out.Merged {
		st.MergeCommit = out.MergeCommitSHA
	}
	return st, err
}

func (g *github) Merge(ctx context.Context, number int, message string) (string, error) {
	var out struct {
		SHA    string `json:"sha"`
		Merged bool   `json:"merged"`
	}
	err := g.do(ctx, http.MethodPut, g.repo+"/pulls/"+strconv.Itoa(number)+"/merge", map[string]string{"commit_title": message, "merge_method": "merge"}, &out)
	return out.SHA, err
}

type gitlab struct {
	*api
	project string
}

func (g *gitlab) Name() string { return "GitLab" }

func (g *gitlab) OpenPullRequest(ctx context.Context, pr PR) (PullRequest, error) {
	var out struct {
		IID    int    `json:"iid"`
		WebURL string `json:"web_url"`
	}
	err := g.do(ctx, http.MethodPost, g.project+"/merge_requests", map[string]string{"title": pr.Title, "description": pr.Body,
		"source_branch": pr.Head, "target_branch": pr.Base}, &out)
	return PullRequest{Number: out.IID, URL: out.WebURL}, err
}

func (g *gitlab) SetStatus(ctx context.Context, sha string, s Status) error {
	// GitLab's pipeline states: pending, running, success, failed, canceled.
	state := map[string]string{"pending": "pending", "success": "success", "failure": "failed", "error": "failed"}[s.State]
	if state == "" {
		state = "pending"
	}
	return g.do(ctx, http.MethodPost, g.project+"/statuses/"+sha, map[string]string{"state": state, "name": s.Context,
		"description": truncate(s.Description, 255), "target_url": s.TargetURL}, nil)
}

func (g *gitlab) PullRequest(ctx context.Context, number int) (PullState, error) {
	var out struct {
		State          string `json:"state"`
		MergeCommitSHA string `json:"merge_commit_sha"`
	}
	err := g.do(ctx, http.MethodGet, g.project+"/merge_requests/"+strconv.Itoa(number), nil, &out)
	return PullState{Open: out.State == "opened", Merged: out.State == "merged", MergeCommit: out.MergeCommitSHA}, err
}

func (g *gitlab) Merge(ctx context.Context, number int, message string) (string, error) {
	var out struct {
		MergeCommitSHA string `json:"merge_commit_sha"`
	}
	err := g.do(ctx, http.MethodPut, g.project+"/merge_requests/"+strconv.Itoa(number)+"/merge", map[string]string{"merge_commit_message": message}, &out)
	return out.MergeCommitSHA, err
}

// truncate keeps s within n characters, as hosts cap descriptions.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

type bitbucket struct {
	*api
	repo, web string
}

func (b *bitbucket) Name() string { return "Bitbucket" }

func (b *bitbucket) OpenPullRequest(ctx context.Context, pr PR) (PullRequest, error) {
	var out struct {
		ID    int `json:"id"`
		Links struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	}
	branch := func(name string) map[string]any { return map[string]any{"branch": map[string]string{"name": name}} }
	err := b.do(ctx, http.MethodPost, b.repo+"/pullrequests", map[string]any{"title": pr.Title, "description": pr.Body,
		"source": branch(pr.Head), "destination": branch(pr.Base)}, &out)
	return PullRequest{Number: out.ID, URL: out.Links.HTML.Href}, err
}

func (b *bitbucket) SetStatus(ctx context.Context, sha string, s Status) error {
	// Bitbucket's build states: INPROGRESS, SUCCESSFUL, FAILED, STOPPED.
	state := map[string]string{"pending": "INPROGRESS", "success": "SUCCESSFUL", "failure": "FAILED", "error": "FAILED"}[s.State]
	if state == "" {
		state = "INPROGRESS"
	}
	return b.do(ctx, http.MethodPost, b.repo+"/commit/"+sha+"/statuses/build", map[string]string{"key": s.Context, "name": s.Context,
		"state": state, "description": truncate(s.Description, 255), "url": s.TargetURL}, nil)
}

func (b *bitbucket) PullRequest(ctx context.Context, number int) (PullState, error) {
	var out struct {
		State       string `json:"state"`
		MergeCommit *struct {
			Hash string `json:"hash"`
		} `json:"merge_commit"`
	}
	err := b.do(ctx, http.MethodGet, b.repo+"/pullrequests/"+strconv.Itoa(number), nil, &out)
	st := PullState{Open: out.State == "OPEN", Merged: out.State == "MERGED"}
	if out.MergeCommit != nil {
		st.MergeCommit = out.MergeCommit.Hash
	}
	return st, err
}

func (b *bitbucket) Merge(ctx context.Context, number int, message string) (string, error) {
	var out struct {
		MergeCommit *struct {
			Hash string `json:"hash"`
		} `json:"merge_commit"`
	}
	err := b.do(ctx, http.MethodPost, b.repo+"/pullrequests/"+strconv.Itoa(number)+"/merge", map[string]string{"message": message, "merge_strategy": "merge_commit"}, &out)
	if out.MergeCommit == nil {
		return "", err
	}
	return out.MergeCommit.Hash, err
}

type azure struct {
	*api
	repo, web string
}

const azureVersion = "?api-version=7.1"

func (a *azure) Name() string { return "Azure Repos" }

func (a *azure) OpenPullRequest(ctx context.Context, pr PR) (PullRequest, error) {
	var out struct {
		PullRequestID int `json:"pullRequestId"`
	}
	err := a.do(ctx, http.MethodPost, a.repo+"/pullrequests"+azureVersion, map[string]string{"sourceRefName": "refs/heads/" + pr.Head,
		"targetRefName": "refs/heads/" + pr.Base, "title": pr.Title, "description": pr.Body}, &out)
	return PullRequest{Number: out.PullRequestID, URL: a.web + "/pullrequest/" + strconv.Itoa(out.PullRequestID)}, err
}

func (a *azure) SetStatus(ctx context.Context, sha string, s Status) error {
	// Azure's states: pending, succeeded, failed, error.
	state := map[string]string{"pending": "pending", "success": "succeeded", "failure": "failed", "error": "error"}[s.State]
	if state == "" {
		state = "pending"
	}
	name, genre := s.Context, ""
	if i := strings.LastIndexByte(s.Context, '/'); i > 0 {
		genre, name = s.Context[:i], s.Context[i+1:]
	}
	return a.do(ctx, http.MethodPost, a.repo+"/commits/"+sha+"/statuses"+azureVersion, map[string]any{"state": state,
		"description": truncate(s.Description, 255), "targetUrl": s.TargetURL, "context": map[string]string{"name": name, "genre": genre}}, nil)
}

type azurePR struct {
	Status                string `json:"status"`
	LastMergeSourceCommit *struct {
		CommitID string `json:"commitId"`
	} `json:"lastMergeSourceCommit"`
	LastMergeCommit *struct {
		CommitID string `json:"commitId"`
	} `json:"lastMergeCommit"`
}

func (a *azure) get(ctx context.Context, number int) (azurePR, error) {
	var out azurePR
	err := a.do(ctx, http.MethodGet, a.repo+"/pullrequests/"+strconv.Itoa(number)+azureVersion, nil, &out)
	return out, err
}

func (a *azure) PullRequest(ctx context.Context, number int) (PullState, error) {
	out, err := a.get(ctx, number)
	st := PullState{Open: out.Status == "active", Merged: out.Status == "completed"}
	if st.Merged && out.LastMergeCommit != nil {
		st.MergeCommit = out.LastMergeCommit.CommitID
	}
	return st, err
}

// Merge completes the pull request, naming the source commit Azure asks
// for (so a push in between is not merged unseen).
func (a *azure) Merge(ctx context.Context, number int, message string) (string, error) {
	cur, err := a.get(ctx, number)
	if err != nil {
		return "", err
	}
	if cur.LastMergeSourceCommit == nil {
		return "", &Error{Status: http.StatusConflict, Message: "the pull request has no source commit to complete"}
	}
	var out azurePR
	err = a.do(ctx, http.MethodPatch, a.repo+"/pullrequests/"+strconv.Itoa(number)+azureVersion, map[string]any{"status": "completed",
		"lastMergeSourceCommit": map[string]string{"commitId": cur.LastMergeSourceCommit.CommitID},
		"completionOptions":     map[string]any{"mergeCommitMessage": message, "mergeStrategy": "noFastForward"}}, &out)
	if out.LastMergeCommit == nil {
		return "", err
	}
	return out.LastMergeCommit.CommitID, err
}
