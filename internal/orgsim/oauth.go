package orgsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type authCode struct {
	clientID, redirect, challenge, scope string
	expires                              time.Time
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token is the OAuth token endpoint.
func (o *Org) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a form")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "password":
		o.grantPassword(w, f)
	case "refresh_token":
		o.grantRefresh(w, f)
	case "authorization_code":
		o.grantCode(w, f)
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		o.grantJWT(w, f)
	case "":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

// clientOK checks client_id (and client_secret when sent).
func (o *Org) clientOK(w http.ResponseWriter, f url.Values, secretRequired bool) bool {
	if f.Get("client_id") != o.st.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return false
	}
	s := f.Get("client_secret")
	if (s != "" || secretRequired) && subtle.ConstantTimeCompare([]byte(s), []byte(o.st.ClientSecret)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return false
	}
	return true
}

func (o *Org) grantPassword(w http.ResponseWriter, f url.Values) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.clientOK(w, f, false) {
		return
	}
	pw := f.Get("password")
	if !strings.EqualFold(f.Get("username"), o.st.Username) || (pw != o.st.Password && pw != o.st.Password+o.st.SecurityToken) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
		return
	}
	// A connected app with the refresh_token scope (the simulator's is one)
	// answers the password grant with a refresh token as well.
	o.answerToken(w, o.newRefreshLocked(f.Get("client_id"), "api web full refresh_token id"), true, "api web full refresh_token id")
}

// newRefreshLocked mints a refresh token in Salesforce's alphabet (letters,
// digits, '.' and '_'; no '!', which only access tokens carry). o.mu is
// held.
func (o *Org) newRefreshLocked(clientID, scope string) string {
	t := "5Aep861" + secret(80)
	o.st.Refresh[t] = &grant{ClientID: clientID, Scope: scope}
	return t
}

func (o *Org) grantRefresh(w http.ResponseWriter, f url.Values) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.clientOK(w, f, false) {
		return
	}
	g, ok := o.st.Refresh[f.Get("refresh_token")]
	if !ok || g.ClientID != f.Get("client_id") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
		return
	}
	o.answerToken(w, f.Get("refresh_token"), false, g.Scope)
}

func (o *Org) grantCode(w http.ResponseWriter, f url.Values) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.clientOK(w, f, false) {
		return
	}
	code := f.Get("code")
	c, ok := o.codes[code]
	delete(o.codes, code) // single use
	if !ok || time.Now().After(c.expires) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired authorization code")
		return
	}
	if c.redirect != f.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
	}
	refresh := ""
	scopes := " " + c.scope + " "
	if c.scope == "" || strings.Contains(scopes, " refresh_token ") || strings.Contains(scopes, " offline_access ") || strings.Contains(scopes, " full ") {
		refresh = o.newRefreshLocked(c.clientID, c.scope)
	}
	o.answerToken(w, refresh, true, nonEmpty(c.scope, "api refresh_token id web"))
}

func (o *Org) grantJWT(w http.ResponseWriter, f url.Values) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var claims jwt.RegisteredClaims
	// Salesforce only checks that exp has not passed (sfdx-core sends
	// milliseconds, far in the future).
	t, err := jwt.ParseWithClaims(f.Get("assertion"), &claims, func(t *jwt.Token) (any, error) {
		return &o.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	if err != nil || !t.Valid {
		desc := "invalid assertion"
		if strings.Contains(fmt.Sprint(err), "expired") {
			desc = "expired authorization code"
		}
		oauthError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	if claims.Issuer != o.st.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	audOK := false
	for _, a := range claims.Audience {
		a = strings.TrimSuffix(a, "/")
		if a == o.BaseURL || a == "https://login.salesforce.com" || a == "https://test.salesforce.com" {
			audOK = true
		}
	}
	if !audOK {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "audience is invalid")
		return
	}
	if !strings.EqualFold(claims.Subject, o.st.Username) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "user hasn't approved this consumer")
		return
	}
	o.answerToken(w, "", false, "api web id")
}

// answerToken issues a session; o.mu is held.
func (o *Org) answerToken(w http.ResponseWriter, refresh string, newRefresh bool, scope string) {
	access := o.issueLocked(refresh)
	o.saveLocked()
	issued := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := o.BaseURL + "/id/" + o.st.ID + "/" + o.st.UserID
	mac := hmac.New(sha256.New, []byte(o.st.ClientSecret))
	mac.Write([]byte(id + issued))
	body := map[string]string{
		"access_token": access, "instance_url": o.BaseURL, "id": id, "token_type": "Bearer",
		"issued_at": issued, "signature": base64.StdEncoding.EncodeToString(mac.Sum(nil)), "scope": scope,
	}
	if refresh != "" && newRefresh {
		body["refresh_token"] = refresh
	}
	writeJSON(w, http.StatusOK, body)
}

var authorizePage = template.Must(template.New("authorize").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Allow access? | {{.Org}} (orgsim)</title>
<style>body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}main{max-width:380px;margin:8vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #999;border-radius:4px}
button{margin-top:1rem;padding:.6rem 1.2rem;border-radius:4px;border:1px solid #0b5cab;background:#fff;color:#0b5cab;font-weight:600}
button[value=allow]{background:#0b5cab;color:#fff}.err{color:#b00}.sim{font-size:.85rem;color:#555;margin-top:1.5rem}</style></head>
<body><main><h1>Allow access?</h1><p>An app wants to use the org <strong>{{.Org}}</strong> as you. Sign in to allow it.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post"><input type="hidden" name="q" value="{{.Query}}">
<label for="u">Username</label><input id="u" name="username" value="{{.Username}}" autocomplete="username">
<label for="p">Password</label><input id="p" name="password" type="password" autocomplete="current-password">
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button></form>
<p class="sim">A simulated org (trellis orgsim), not Salesforce.</p></main></body></html>`))

// authorize is the browser step of the web-server flow.
func (o *Org) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		r.ParseForm()
		if parsed, err := url.ParseQuery(r.PostForm.Get("q")); err == nil {
			q = parsed
		}
	}
	o.mu.Lock()
	clientID, username, password := o.st.ClientID, o.st.Username, o.st.Password
	o.mu.Unlock()
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if q.Get("client_id") != clientID || redirect == "" || err != nil || (ru.Scheme != "http" && ru.Scheme != "https") {
		http.Error(w, "error=invalid_client_id or redirect_uri_mismatch: the app or its callback URL is not registered", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" {
		back(w, r, ru, url.Values{"error": {"unsupported_response_type"}, "error_description": {"response type not supported"}, "state": {q.Get("state")}})
		return
	}
	if m := q.Get("code_challenge_method"); m != "" && m != "S256" {
		back(w, r, ru, url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256"}, "state": {q.Get("state")}})
		return
	}
	data := map[string]string{"Org": o.Name, "Query": q.Encode(), "Username": r.PostForm.Get("username")}
	if r.Method == http.MethodPost {
		if r.PostForm.Get("decision") == "deny" {
			back(w, r, ru, url.Values{"error": {"access_denied"}, "error_description": {"end-user denied authorization"}, "state": {q.Get("state")}})
			return
		}
		if strings.EqualFold(r.PostForm.Get("username"), username) && r.PostForm.Get("password") == password {
			code := secret(40)
			o.mu.Lock()
			o.codes[code] = &authCode{clientID: clientID, redirect: redirect, challenge: q.Get("code_challenge"), scope: q.Get("scope"), expires: time.Now().Add(15 * time.Minute)}
			o.mu.Unlock()
			back(w, r, ru, url.Values{"code": {code}, "state": {q.Get("state")}})
			return
		}
		data["Error"] = "Please check your username and password."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	authorizePage.Execute(w, data)
}

func back(w http.ResponseWriter, r *http.Request, ru *url.URL, v url.Values) {
	q := ru.Query()
	for k, vs := range v {
		if vs[0] != "" {
			q[k] = vs
		}
	}
	ru.RawQuery = q.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (o *Org) revoke(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	tok := r.Form.Get("token")
	o.mu.Lock()
	defer o.mu.Unlock()
	_, isSession := o.st.Sessions[tok]
	_, isRefresh := o.st.Refresh[tok]
	if !isSession && !isRefresh {
		oauthError(w, http.StatusBadRequest, "unsupported_token_type", "this token type is not supported")
		return
	}
	delete(o.st.Sessions, tok)
	if isRefresh {
		delete(o.st.Refresh, tok)
		for k, s := range o.st.Sessions {
			if s.Refresh == tok {
				delete(o.st.Sessions, k)
			}
		}
	}
	o.saveLocked()
	w.WriteHeader(http.StatusOK)
}

func (o *Org) identityBody() map[string]any {
	return map[string]any{
		"id": o.BaseURL + "/id/" + o.st.ID + "/" + o.st.UserID, "user_id": o.st.UserID, "organization_id": o.st.ID,
		"username": o.st.Username, "display_name": "Admin User", "email": o.st.Username, "active": true, "user_type": "STANDARD",
		"urls": map[string]string{
			"metadata": o.BaseURL + "/services/Soap/m/{version}/" + o.st.ID[:15],
			"rest":     o.BaseURL + "/services/data/v{version}/",
			"query":    o.BaseURL + "/services/data/v{version}/query/",
		},
	}
}

func (o *Org) identity(w http.ResponseWriter, r *http.Request) {
	if !o.bearer(w, r) {
		return
	}
	o.mu.Lock()
	body := o.identityBody()
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (o *Org) userinfo(w http.ResponseWriter, r *http.Request) {
	if !o.bearer(w, r) {
		return
	}
	o.mu.Lock()
	body := map[string]any{"sub": o.BaseURL + "/id/" + o.st.ID + "/" + o.st.UserID, "user_id": o.st.UserID,
		"organization_id": o.st.ID, "preferred_username": o.st.Username, "email": o.st.Username, "name": "Admin User"}
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// singleAccess is /services/oauth2/singleaccess: a one-time front-door
// URL that opens the org in a browser (`sf org open`).
func (o *Org) singleAccess(w http.ResponseWriter, r *http.Request) {
	if !o.bearer(w, r) {
		return
	}
	u := o.BaseURL + "/secur/frontdoor.jsp?otp=" + secret(40)
	if ru := r.URL.Query().Get("redirect_uri"); ru != "" {
		u += "&startURL=" + url.QueryEscape(ru)
	}
	writeJSON(w, http.StatusOK, map[string]string{"frontdoor_uri": u})
}

// frontdoor is the page a front-door URL opens: the simulator has no
// setup UI, so it says which org this is.
func (o *Org) frontdoor(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	name, user := o.Name, o.st.Username
	o.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>Simulated org %s</h1><p>Signed in as %s. This org is simulated by trellis orgsim and has no setup pages.</p>",
		html.EscapeString(name), html.EscapeString(name), html.EscapeString(user))
}
