package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

// TestTrackerCrashRecovery kills a real `trellis serve` (SIGKILL) while it
// syncs a work item with its GitHub issue (holding the link's lease) and
// right after GitHub took a delivery comment but before Trellis recorded
// it; started again, every delivery reaches the issue exactly once and the
// link ends in sync.
func TestTrackerCrashRecovery(t *testing.T) {
	t.Parallel()
	h := newCrashHarness(t, dbEnv(t))
	sim := trackersim.New(tracker.GitHub)
	gh := httptest.NewServer(sim)
	t.Cleanup(gh.Close)
	h.start("")
	h.call("PUT", "/api/v1/projects/CRM/tracker", map[string]any{"kind": "github", "base_url": gh.URL, "scope": sim.Scope, "token": sim.Token}, http.StatusOK, nil)
	h.stop()

	var tried, recovered, duplicates, lost int
	defer func() {
		t.Logf("kill points tried %d, recovered %d, duplicate comments %d, deliveries lost %d", tried, recovered, duplicates, lost)
	}()
	refRE := regexp.MustCompile(`\(Trellis event (\d+)\)`)
	deployedRE := regexp.MustCompile(` deployed: `)
	for _, point := range []string{"tracker.leased", "tracker.posted"} {
		t.Run(point, func(t *testing.T) {
			h.t = t
			tried++
			h.start(point)
			b := h.newBuild()
			issue := sim.Create("Crash "+point, "")
			var item string
			if err := h.pool.QueryRow(context.Background(), `SELECT DISTINCT work_item FROM build_components WHERE build_id = $1`, b.ID).Scan(&item); err != nil {
				t.Fatal(err)
			}
			h.call("POST", "/api/v1/work-items/"+item+"/tracker-link", map[string]string{"key": issue}, 0, nil)
			if point == "tracker.leased" {
				h.killed(point) // the link's first sync
				h.start("")
			}
			var p alm.Promotion
			h.call("POST", "/api/v1/promotions", map[string]any{"build_id": b.ID, "stage": "UAT"}, http.StatusCreated, &p)
			if point == "tracker.posted" {
				h.killed(point) // GitHub has the "promoted" comment; Trellis has not recorded it
				h.start("")
			}
			h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), nil, http.StatusOK, nil)
			h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), nil, http.StatusAccepted, nil)

			deadline := time.Now().Add(2 * recoveryBound)
			for {
				var pending, posted int
				var state string
				err := h.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE d.posted_at IS NULL), count(*) FILTER (WHERE d.posted_at IS NOT NULL), min(l.state)
					FROM tracker_links l LEFT JOIN tracker_deliveries d ON d.link_id = l.id WHERE l.remote_key = $1`, issue).Scan(&pending, &posted, &state)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := sim.Get(issue)
				deployed := false
				for _, c := range got.Comments {
					if deployedRE.MatchString(c.Body) {
						deployed = true
					}
				}
				// "warning": no status mapping here, which the link says.
				if pending == 0 && posted >= 2 && deployed && state != "error" {
					seen := map[string]int{}
					for _, c := range got.Comments {
						if m := refRE.FindStringSubmatch(c.Body); m != nil {
							seen[m[1]]++
						}
					}
					for ref, n := range seen {
						if n > 1 {
							duplicates += n - 1
							t.Errorf("event %s was posted %d times", ref, n)
						}
					}
					if len(seen) != posted {
						lost += max(0, posted-len(seen))
						t.Errorf("%d deliveries recorded, %d on the issue", posted, len(seen))
					}
					break
				}
				if time.Now().After(deadline) {
					lost++
					t.Fatalf("after %s: %d deliveries pending, %d posted, link %s, comments %v; logs:\n%s", 2*recoveryBound, pending, posted, state, got.Comments, h.logs.String())
				}
				time.Sleep(200 * time.Millisecond)
			}
			if !t.Failed() {
				recovered++
			}
			h.stop()
		})
	}
}
