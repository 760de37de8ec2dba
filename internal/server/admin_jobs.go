package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// registerAdminJobRoutes mounts River's own UI (jobs by state, attempts,
// errors, retry, cancel) behind the admin check; it has no auth of its own.
func (s *Server) registerAdminJobRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/admin/jobs", needs(alm.PermManageJobs), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/jobs/", http.StatusSeeOther)
	})
	s.handle(r, "*", "/admin/jobs/*", needs(alm.PermManageJobs), func(w http.ResponseWriter, r *http.Request) {
		if s.deps.JobsUI == nil {
			s.fail(w, r, alm.Errorf(alm.CodeUnavailable, "The jobs view is not running in this process."))
			return
		}
		s.deps.JobsUI.ServeHTTP(w, r)
	})
}
