package server

import (
	"fmt"
	"net/http"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

// tourPage walks the lifecycle in seven steps, linking into the demo
// project's records when the demo is there, and to each area otherwise.
func (s *Server) tourPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	link := func(demoHref, plain string) string {
		if demoHref != "" {
			return demoHref
		}
		return plain
	}
	var reqHref, itemHref, releaseHref, buildHref, promoHref, compareHref, alertHref string
	demoProject := false
	key := s.deps.DemoProject
	if p, err := s.store.ProjectByKey(ctx, key); key != "" && err == nil {
		demoProject = true
		reqHref = "/requirements/" + key + "-REQ-1"
		itemHref = "/work-items/" + key + "-1"
		if promos, err := s.store.ListPromotions(ctx, store.PromotionFilter{}); err == nil {
			for _, pr := range promos {
				if pr.ProjectID == p.ID {
					promoHref = fmt.Sprintf("/promotions/%d", pr.ID)
					buildHref = fmt.Sprintf("/builds/%d", pr.BuildID)
				}
			}
		}
		if rels, err := s.store.ReleaseChoices(ctx, p.ID); err == nil && len(rels) > 0 {
			releaseHref = fmt.Sprintf("/projects/%s/releases/%d", p.Key, rels[0].ID)
		}
		if orgList, err := s.store.ListOrgs(ctx); err == nil {
			ids := map[string]int64{}
			for _, o := range orgList {
				if sn, err := s.store.LatestSnapshot(ctx, o.ID); err == nil {
					ids[o.Name] = sn.ID
				}
			}
			if ids["Production"] != 0 && ids["Dev"] != 0 {
				compareHref = fmt.Sprintf("/compare?a=%d&b=%d", ids["Production"], ids["Dev"])
			}
		}
		if alerts, err := s.store.ListAlerts(ctx, store.AlertFilter{Kind: alm.AlertDrift, Limit: 1}); err == nil && len(alerts) > 0 {
			alertHref = fmt.Sprintf("/alerts/%d", alerts[0].ID)
		}
	}
	steps := []web.TourStep{
		{Title: "Plan the change", Role: "Product owner", Text: "A requirement says what the business needs and how to tell it is done; questions in its discussion stay open until answered. Work items on the board deliver it.",
			Href: link(reqHref, "/plan"), Link: "Open the churn-risk requirement"},
		{Title: "Develop it", Role: "Developer", Text: "Compare the developer's org with production, component by component, and capture what changed onto the work item: its change set.",
			Href: link(compareHref, "/develop"), Link: "Compare Production with Dev"},
		{Title: "Test the change set", Role: "Developer", Text: "The work item shows what it carries, its validations and how far it has got; static checks and a check-only deploy run before anything ships.",
			Href: link(itemHref, "/test"), Link: "See the work item's changes"},
		{Title: "Build the release", Role: "Release manager", Text: "A release build is the union of its work items' changes: one immutable package with a checksum, checked for missing dependencies and deletions.",
			Href: link(releaseHref, "/build"), Link: "Open the Spring release"},
		{Title: "Test the build", Role: "Release manager", Text: "Validate the exact artifact against a stage's org with its tests; a passed validation lets production quick-deploy it later.",
			Href: link(buildHref, "/build"), Link: "Validate the build"},
		{Title: "Release it", Role: "Release manager", Text: "Each stage's policy decides: approvals from named roles (never your own work), validation, coverage, change windows. Deploy, watch it live, roll back in one click.",
			Href: link(promoHref, "/release"), Link: "Approve the promotion waiting in UAT"},
		{Title: "Maintain production", Role: "Everyone", Text: "Daily backups with restore, alerts when someone changes production outside Trellis (with who did it), regression runs, feedback and delivery metrics.",
			Href: link(alertHref, "/maintain"), Link: "See the drift alert"},
	}
	if !demoProject {
		// Without the demo the links lead to each area, and say so.
		for i, area := range []string{"Plan", "Develop", "Test", "Build", "Build", "Release", "Maintain"} {
			steps[i].Link = "Go to " + area
		}
	}
	p := s.page(w, r, "Getting started", "overview", web.Crumb{Label: "Getting started"})
	s.render(w, r, http.StatusOK, web.Tour(web.TourView{Page: p, Steps: steps, Demo: demoProject}))
}
