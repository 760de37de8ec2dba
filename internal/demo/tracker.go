package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

// The demo's work tracker: a simulated Jira Cloud the SUBS project plans
// in, with a board at its /board page where a person can add, move and
// comment on stories and watch them arrive in Trellis.

var demoStories = []struct{ title, description string }{
	{"Customers pause a subscription", "As a customer I can **pause** my subscription for up to 3 months.\n\n- no charge while paused\n- resumes automatically"},
	{"Renewal reminder emails", "Email the account owner _30 days_ before renewal."},
	{"Annual discount for upfront payment", "Offer 10% off when a customer pays a year upfront."},
}

// startTracker serves the simulated Jira on addr, keeping its state in
// the demo directory.
func startTracker(dir, addr string) (*trackersim.Sim, *http.Server, string, error) {
	sim := trackersim.New(tracker.JiraCloud)
	sim.Scope = "PLAN" // unlike the Trellis project key, so the two never read alike
	if err := sim.PersistTo(filepath.Join(dir, "tracker.json")); err != nil {
		return nil, nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, "", fmt.Errorf("demo tracker on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return sim, srv, "http://" + ln.Addr().String(), nil
}

// connectTracker connects the demo project to the simulated Jira the
// first time: three stories, the status mapping, two of them imported as
// work items, the webhook pointed at Trellis.
func (d *Demo) connectTracker(ctx context.Context, cfg Config, project alm.Project) error {
	if cfg.Tracker == nil || d.Tracker == nil {
		return nil
	}
	if _, err := cfg.Store.TrackerConnection(ctx, project.ID); err == nil {
		return nil
	} else if alm.ErrorCode(err) != alm.CodeNotFound {
		return err
	}
	sim := d.Tracker
	if sim.Len() == 0 {
		for _, st := range demoStories {
			sim.Create(st.title, st.description, "subscriptions")
		}
	}
	c, secret, err := cfg.Tracker.Connect(ctx, alm.TrackerConnection{ProjectID: project.ID, Kind: string(tracker.JiraCloud), BaseURL: d.TrackerURL,
		Scope: sim.Scope, Username: sim.User, ImportAs: "work_item"}, sim.Token, true)
	if err != nil {
		return err
	}
	if err := cfg.Store.SaveStatusMappings(ctx, c.ID, []alm.StatusMapping{
		{Entity: "work_item", Remote: "To Do", Local: string(alm.WorkReady)}, {Entity: "work_item", Remote: "In Progress", Local: string(alm.WorkInProgress)},
		{Entity: "work_item", Remote: "In Review", Local: string(alm.WorkInReview)}, {Entity: "work_item", Remote: "Done", Local: string(alm.WorkDone)},
		{Entity: "requirement", Remote: "To Do", Local: string(alm.ReqAccepted)}, {Entity: "requirement", Remote: "In Progress", Local: string(alm.ReqInDelivery)},
		{Entity: "requirement", Remote: "Done", Local: string(alm.ReqDelivered)},
	}); err != nil {
		return err
	}
	if cfg.BaseURL == "" {
		return errors.New("no base URL for the tracker's webhook")
	}
	sim.SendWebhooksTo(fmt.Sprintf("%s/api/v1/hooks/trackers/%d", strings.TrimSuffix(cfg.BaseURL, "/"), c.ID), secret)
	_, err = cfg.Tracker.Import(ctx, c, []string{"PLAN-1", "PLAN-2"})
	return err
}
