// Org health readings taken with each backup.

package jobs

import (
	"context"

	"github.com/trellis-alm/trellis/internal/store"
)

// CheckHealth keeps a reading of an org's API use and org-wide coverage,
// and queues a regression run through c when Salesforce has upgraded the
// org (its newest API version went up) and the org's policy asks for one.
func CheckHealth(ctx context.Context, deps Deps, c *Client, orgID int64) error {
	if deps.Orgs == nil {
		return nil
	}
	org, err := deps.Store.OrgByID(ctx, orgID)
	if err != nil {
		return err
	}
	client, err := deps.Orgs.Client(ctx, org)
	if err != nil {
		return err
	}
	h := store.HealthSample{At: deps.Store.Now()}
	limits, err := client.Limits(ctx)
	if err != nil {
		return err
	}
	daily := limits["DailyApiRequests"]
	h.APIUsed, h.APIMax = daily.Max-daily.Remaining, daily.Max
	var cov []struct {
		PercentCovered *int `json:"PercentCovered"`
	}
	if err := client.ToolingQueryAll(ctx, "SELECT PercentCovered FROM ApexOrgWideCoverage", &cov); err == nil && len(cov) > 0 {
		h.Coverage = cov[0].PercentCovered
	}
	if vs, err := client.Versions(ctx); err == nil && len(vs) > 0 {
		h.APIVersion = vs[len(vs)-1].Version
	}
	if err := deps.Store.AddHealthSample(ctx, orgID, h); err != nil {
		return err
	}
	if h.APIVersion == "" {
		return nil
	}
	before, onUpgrade, err := deps.Store.NoteAPIVersion(ctx, orgID, h.APIVersion)
	if err != nil || before == "" || before == h.APIVersion || !onUpgrade || c == nil {
		return err
	}
	return StartRegression(ctx, deps.Store, c, orgID, "after the upgrade to API "+h.APIVersion)
}
