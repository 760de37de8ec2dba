package orgsim

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Versions served: 31.0 (the oldest not retired) to maxVersion.
const (
	minVersion = 31
	maxVersion = 67
)

// Faults make the org misbehave, for tests of the client's resilience.
type Faults struct {
	// Latency is added before every API answer.
	Latency time.Duration `json:"-"`
	// FailNext answers the next n API requests with 503 and an HTML page.
	FailNext int `json:"failNext"`
	// ErrorRate answers this share of API requests with 503 at random.
	ErrorRate float64 `json:"errorRate"`
	// LimitExhausted makes every API request fail with
	// REQUEST_LIMIT_EXCEEDED, as when the daily allowance is used up.
	LimitExhausted bool `json:"limitExhausted"`
}

// SetFaults replaces the org's fault knobs.
func (o *Org) SetFaults(f Faults) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults = f
}

// SetDailyLimit sets the org's daily API request allowance (and starts
// the day's count afresh), for tests of API shares.
func (o *Org) SetDailyLimit(max int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.st.APIMax, o.st.APIUsed, o.st.UsageSince = max, 0, time.Now().UTC()
	o.saveLocked()
}

// APICalls reports the API requests the org has counted in its day.
func (o *Org) APICalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.st.APIUsed
}

// ExpireSessions ends every access token, as a session timeout would;
// refresh tokens stay valid.
func (o *Org) ExpireSessions() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.st.Sessions = map[string]*session{}
	o.saveLocked()
}

func (o *Org) handler() http.Handler {
	r := chi.NewRouter()
	r.Route("/services/oauth2", func(r chi.Router) {
		r.Post("/token", o.token)
		r.Get("/authorize", o.authorize)
		r.Post("/authorize", o.authorize)
		r.Post("/revoke", o.revoke)
		r.Get("/userinfo", o.userinfo)
		r.Get("/singleaccess", o.singleAccess)
		r.Post("/singleaccess", o.singleAccess)
	})
	r.Get("/secur/frontdoor.jsp", o.frontdoor)
	r.Get("/id/{org}/{user}", o.identity)
	r.Group(func(r chi.Router) {
		r.Use(o.api)
		r.Post("/services/Soap/m/{version}", o.soap)
		r.Post("/services/Soap/u/{version}", o.soapLogin)
		r.Post("/services/Soap/s/{version}", o.executeAnonymous)
		r.Post("/services/Soap/s/{version}/{orgId}", o.executeAnonymous)
		r.Post("/services/Soap/m/{version}/{orgId}", o.soap)
		r.Get("/services/data", o.versions)
		r.Get("/services/data/", o.versions)
		r.Route("/services/data/{version}", o.rest)
		r.Post("/cometd/{version}", o.comet)
		r.Post("/cometd/{version}/*", o.comet)
	})
	r.Route("/_orgsim", o.admin)
	r.Get("/setup", o.setup)
	r.Post("/setup", o.setup)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	})
	return collapseSlashes(r)
}

// collapseSlashes serves "//services/…" as "/services/…": clients that keep
// the instance URL with a trailing slash (the Salesforce CLI after `org
// login access-token`) send such paths, and Salesforce accepts them.
func collapseSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			p := r.URL.Path
			for strings.Contains(p, "//") {
				p = strings.ReplaceAll(p, "//", "/")
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// api applies faults and counts API usage.
func (o *Org) api(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		f := o.faults
		fail := false
		if o.faults.FailNext > 0 {
			o.faults.FailNext--
			fail = true
		} else if f.ErrorRate > 0 && o.rng.Float64() < f.ErrorRate {
			fail = true
		}
		o.advanceLocked()
		if time.Since(o.st.UsageSince) > 24*time.Hour {
			// A day's allowance: the simulator's stand-in for the rolling window.
			o.st.APIUsed, o.st.UsageSince = 0, time.Now().UTC()
		}
		o.st.APIUsed++
		used, max := o.st.APIUsed, o.st.APIMax
		if used > max {
			f.LimitExhausted = true
		}
		if f.LimitExhausted {
			used = max
		}
		o.mu.Unlock()
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if fail {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request. Please try again later.</p></body></html>")
			return
		}
		isSOAP := strings.HasPrefix(r.URL.Path, "/services/Soap/")
		if f.LimitExhausted {
			if isSOAP {
				soapFault(w, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			} else {
				restError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			}
			return
		}
		if !isSOAP {
			w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, max))
		}
		next.ServeHTTP(w, r)
	})
}

// versionOK checks "v64.0"-style (REST) or "64.0" (SOAP) versions.
func versionOK(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimPrefix(v, "v"), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func (o *Org) versions(w http.ResponseWriter, r *http.Request) {
	var out []map[string]string
	for v := minVersion; v <= maxVersion; v++ {
		out = append(out, map[string]string{"label": fmt.Sprintf("API %d.0", v), "url": fmt.Sprintf("/services/data/v%d.0", v), "version": fmt.Sprintf("%d.0", v)})
	}
	writeJSON(w, http.StatusOK, out)
}

// bearer returns the session of a REST request, or answers 401.
func (o *Org) bearer(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
	}
	o.mu.Lock()
	_, valid := o.st.Sessions[strings.TrimSpace(tok)]
	o.mu.Unlock()
	if !ok || !valid {
		w.Header().Set("WWW-Authenticate", `Token`)
		restError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// restError writes the REST error array.
func restError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []map[string]any{{"message": msg, "errorCode": code}})
}

func soapFault(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:%s</faultcode><faultstring>%s: %s</faultstring><detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>%s</sf:exceptionCode><sf:exceptionMessage>%s</sf:exceptionMessage></sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		code, code, esc(msg), code, esc(msg))
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func sfTime(t time.Time) string   { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
func restTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }
