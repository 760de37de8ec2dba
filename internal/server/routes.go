package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// routesTable builds the router. Every route goes through s.handle with its
// access rule; TestEveryRouteHasARule walks the router to keep it so.
func (s *Server) routesTable() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.recoverer, s.observe, s.secureHeaders, s.deadline, s.limitBody)
	r.Use(s.crossOrigin, s.authenticate, s.requireSetup, s.checkInput, s.checkCSRF, s.requirePasswordChange)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "There is nothing at %s.", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &alm.Error{Code: "method_not_allowed", Message: r.Method + " is not allowed here."})
	})

	s.registerOperationsRoutes(r)
	s.registerAuthRoutes(r)
	s.registerPageRoutes(r)
	s.registerPlanRoutes(r)
	s.registerDevelopRoutes(r)
	s.registerMaintainRoutes(r)
	s.registerMetricsRoutes(r)
	s.registerFeedbackRoutes(r)
	s.registerWebhookRoutes(r)
	s.registerAccountRoutes(r)
	s.registerAdminRoutes(r)
	s.registerAPIRoutes(r)
	return r
}
