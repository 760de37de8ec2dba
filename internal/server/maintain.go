package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerMaintainRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/maintain", needs(alm.PermView), s.maintainPage)
	s.registerBackupRoutes(r)
	s.registerAlertRoutes(r)
	s.registerDataBackupRoutes(r)
	s.registerHealthRoutes(r)
}

func (s *Server) maintainPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgList, err := s.store.ListOrgs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.MaintainView{CanRestore: callerFrom(ctx).User.Role.Can(alm.PermRestore)}
	for _, o := range orgList {
		p, err := s.store.BackupPolicy(ctx, o.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sum := web.OrgBackupSummary{Org: o, Policy: p}
		if bs, err := s.store.Backups(ctx, o.ID, 1); err != nil {
			s.fail(w, r, err)
			return
		} else if len(bs) > 0 {
			sum.Last = &bs[0]
		}
		v.Orgs = append(v.Orgs, sum)
	}
	if v.Alerts, err = s.store.ListAlerts(ctx, store.AlertFilter{Status: "open", Limit: 8}); err != nil {
		s.fail(w, r, err)
		return
	}
	projects, err := s.store.ListProjects(ctx, callerFrom(ctx).User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, p := range projects {
		v.Projects = append(v.Projects, p.Project)
	}
	v.Page = s.page(w, r, "Maintain", "maintain")
	s.render(w, r, http.StatusOK, web.Maintain(v))
}
