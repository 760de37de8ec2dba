package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAdminAuditRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/admin/audit", needs(alm.PermReadAudit), s.auditPage)
}

const auditPageSize = 50

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := emptyForm()
	for _, k := range []string{"actor", "action", "target", "from", "to"} {
		f.Values[k] = q.Get(k)
	}
	filter := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Limit: auditPageSize}
	var bad []string
	if v := q.Get("from"); v != "" {
		if t, err := time.Parse("2006-01-02", v); err == nil {
			filter.From = t
		} else {
			bad = append(bad, "from")
		}
	}
	if v := q.Get("to"); v != "" {
		if t, err := time.Parse("2006-01-02", v); err == nil {
			filter.To = t.Add(24 * time.Hour)
		} else {
			bad = append(bad, "to")
		}
	}
	if len(bad) > 0 {
		f.Message = "Dates must look like 2026-03-31; the bad ones were ignored."
	}
	filter.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	entries, err := s.store.ListAudit(r.Context(), filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	actions, err := s.store.AuditActions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := ""
	if len(entries) == auditPageSize {
		nq := url.Values{}
		for k, v := range f.Values {
			if v != "" {
				nq.Set(k, v)
			}
		}
		nq.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		next = "/admin/audit?" + nq.Encode()
	}
	p := s.page(w, r, "Audit log", "admin-audit")
	s.render(w, r, http.StatusOK, web.Audit(web.AuditView{Page: p, Filter: f, Actions: actions, Entries: entries, NextURL: next}))
}
