package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerWebhookRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/admin/webhooks", needs(alm.PermManageWebhooks), s.webhooksPage)
	s.handle(r, http.MethodPost, "/admin/webhooks", needs(alm.PermManageWebhooks), s.createWebhook)
	s.handle(r, http.MethodPost, "/admin/webhooks/{id}/delete", needs(alm.PermManageWebhooks), s.deleteWebhook)
	s.handle(r, http.MethodGet, "/api/v1/webhooks", needs(alm.PermManageWebhooks), s.apiWebhooks)
	s.handle(r, http.MethodPost, "/api/v1/webhooks", needs(alm.PermManageWebhooks), s.createWebhook)
	s.handle(r, http.MethodDelete, "/api/v1/webhooks/{id}", needs(alm.PermManageWebhooks), s.deleteWebhook)
	s.handle(r, http.MethodGet, "/api/v1/webhooks/{id}/deliveries", needs(alm.PermManageWebhooks), s.apiWebhookDeliveries)
	s.handle(r, http.MethodPut, "/api/v1/repositories/{id}/hook", needs(alm.PermManageWebhooks), s.setRepoHook)
	s.handle(r, http.MethodPost, "/repositories/{id}/hook", needs(alm.PermManageWebhooks), s.setRepoHook)
	// A git host calls this; the push is trusted by its signature alone.
	s.handle(r, http.MethodPost, "/api/v1/hooks/repositories/{id}", public, s.repoPushHook)
}

type webhookInput struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// newWebhook checks an endpoint and seals its address and secret.
func (s *Server) newWebhook(r *http.Request, in webhookInput) (alm.Webhook, error) {
	bad := map[string]string{}
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad["url"] = "Enter the endpoint's https:// address."
	} else if err := s.cfg.Outbound.CheckURL(r.Context(), in.URL); err != nil {
		bad["url"] = outboundMessage(err)
	}
	if len(in.Secret) < 16 {
		bad["secret"] = "Use a secret of at least 16 characters; the receiver checks each request's signature with it."
	}
	if len(in.Events) == 0 {
		bad["events"] = "Choose at least one kind of event."
	}
	for _, e := range in.Events {
		if e != "*" && !slices.Contains(alm.WebhookTopics, e) {
			bad["events"] = "Choose among " + strings.Join(alm.WebhookTopics, ", ") + " (or * for all)."
		}
	}
	if len(bad) > 0 {
		return alm.Webhook{}, alm.Invalid(bad)
	}
	if s.deps.Keyring == nil {
		return alm.Webhook{}, alm.Errorf(alm.CodeUnavailable, "No keyring is configured to seal the address.")
	}
	sealedURL, err := s.deps.Keyring.Seal([]byte(u.String()), jobs.WebhookSealContext)
	if err != nil {
		return alm.Webhook{}, err
	}
	sealedSecret, err := s.deps.Keyring.Seal([]byte(in.Secret), jobs.WebhookSealContext)
	if err != nil {
		return alm.Webhook{}, err
	}
	return s.store.CreateWebhook(r.Context(), alm.Webhook{URLHint: jobs.RedactHook(u.String()), Events: in.Events}, sealedURL, sealedSecret)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	f := emptyForm()
	if isAPI(r) {
		if err := decodeJSON(r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		_ = r.ParseForm()
		f = formOf(r, "url")
		in = webhookInput{URL: f.Value("url"), Secret: r.PostFormValue("secret"), Events: r.PostForm["events"]}
		for _, e := range in.Events {
			f.Values["event:"+e] = "on"
		}
	}
	hook, err := s.newWebhook(r, in)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.created(w, "/api/v1/webhooks", hook)
		return
	}
	if err != nil {
		if alm.ErrorCode(err) != alm.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		s.renderWebhooks(w, r, http.StatusUnprocessableEntity, withError(f, err))
		return
	}
	s.redirect(w, r, "/admin/webhooks", "ok", "Events will go to "+hook.URLHint+", signed with your secret.")
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhooks(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, form web.Form) {
	hooks, err := s.store.Webhooks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.WebhooksView{Form: form, Topics: alm.WebhookTopics}
	for _, h := range hooks {
		d, err := s.store.WebhookDeliveries(r.Context(), h.ID, 10)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Hooks = append(v.Hooks, web.WebhookRow{Hook: h.Webhook, Deliveries: d})
	}
	repos, err := s.store.ListRepositories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Repos, v.BaseURL = repos, strings.TrimSuffix(s.cfg.BaseURL.String(), "/")
	v.Page = s.page(w, r, "Webhooks", "admin-webhooks", web.Crumb{Label: "Administration"}, web.Crumb{Label: "Webhooks"})
	s.render(w, r, status, web.Webhooks(v))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.deleteByID(w, r, "webhook", s.store.DeleteWebhook, "/admin/webhooks", "Webhook removed.")
}

func (s *Server) apiWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.store.Webhooks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]alm.Webhook, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.Webhook)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) apiWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That webhook was not found."))
		return
	}
	list, err := s.store.WebhookDeliveries(r.Context(), id, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// setRepoHook sets the secret a git host signs push events for a
// repository with.
func (s *Server) setRepoHook(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	secret := r.PostFormValue("secret")
	if isAPI(r) {
		var body struct {
			Secret string `json:"secret"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		secret = body.Secret
	}
	err := func() error {
		if len(secret) < 16 {
			return alm.Invalid(map[string]string{"secret": "Use a secret of at least 16 characters, and give the git host the same one."})
		}
		if s.deps.Keyring == nil {
			return alm.Errorf(alm.CodeUnavailable, "No keyring is configured to seal the secret.")
		}
		sealed, err := s.deps.Keyring.Seal([]byte(secret), jobs.WebhookSealContext)
		if err != nil {
			return err
		}
		return s.store.SetRepositoryHookSecret(r.Context(), repo.ID, sealed)
	}()
	hookURL := fmt.Sprintf("%s/api/v1/hooks/repositories/%d", strings.TrimSuffix(s.cfg.BaseURL.String(), "/"), repo.ID)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"url": hookURL})
		return
	}
	if err != nil {
		s.failBack(w, r, "/admin/webhooks#incoming", err)
		return
	}
	s.redirect(w, r, "/admin/webhooks#incoming", "ok", "Point the git host's push webhook at "+hookURL+" with that secret.")
}

// repoPushHook takes a git host's push event: signed with the repository's
// secret (GitHub's X-Hub-Signature-256, GitLab's X-Gitlab-Token, or
// Trellis's own X-Trellis-Signature over the timestamp and body), a push
// to a branch queues a snapshot of it.
func (s *Server) repoPushHook(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 5<<20))
	if err != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"body": "The event could not be read."}))
		return
	}
	sealed, err := s.store.RepositoryHookSecret(r.Context(), repo.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sealed == "" || s.deps.Keyring == nil || !s.validPush(r, sealed, body) {
		s.fail(w, r, alm.Errorf(alm.CodeUnauthorized, "The event's signature does not match this repository's webhook secret."))
		return
	}
	var push struct {
		Ref   string `json:"ref"`
		After string `json:"after"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"body": "The event is not JSON."}))
		return
	}
	branch, isBranch := strings.CutPrefix(push.Ref, "refs/heads/")
	if !isBranch || push.After == strings.Repeat("0", 40) {
		s.writeJSON(w, http.StatusOK, map[string]any{"ignored": "not a push to a branch (or a deleted branch)"})
		return
	}
	sn, err := s.beginRepoSnapshot(r, repo, branch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A pull request merged on the host moves the promotion waiting on it.
	var advanced []int64
	if gf, err := s.gitflow(); err == nil {
		if advanced, err = gf.NoticePush(r.Context(), repo.ID, branch); err != nil {
			s.log.Warn("push webhook: promotions not advanced", "repository", repo.ID, "branch", branch, "err", alm.ErrorMessage(err))
		}
	}
	if advanced == nil {
		advanced = []int64{}
	}
	s.writeJSON(w, http.StatusAccepted, map[string]any{"snapshot": sn.ID, "ref": branch, "promotions_advanced": advanced})
}

func (s *Server) validPush(r *http.Request, sealed string, body []byte) bool {
	secret, err := s.deps.Keyring.Open(sealed, jobs.WebhookSealContext)
	if err != nil {
		return false
	}
	if sig := r.Header.Get("X-Hub-Signature-256"); sig != "" {
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		return hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(m.Sum(nil))))
	}
	if tok := r.Header.Get("X-Gitlab-Token"); tok != "" {
		return hmac.Equal([]byte(tok), secret)
	}
	if sig := r.Header.Get("X-Trellis-Signature"); sig != "" {
		return hmac.Equal([]byte(sig), []byte(jobs.WebhookSignature(secret, r.Header.Get("X-Trellis-Timestamp"), body)))
	}
	return false
}
