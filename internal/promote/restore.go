package promote

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/artifact"
	"github.com/trellis-alm/trellis/internal/deletion"
	"github.com/trellis-alm/trellis/internal/store"
)

// RestoreRequest chooses what to put back into an org from one of its
// snapshots: components ("Type/Name") and whole types. DeleteAdded also
// deletes, within the chosen types, what the org has now but the snapshot
// did not.
type RestoreRequest struct {
	OrgID       int64    `json:"-"`
	SnapshotID  int64    `json:"snapshot_id"`
	Components  []string `json:"components"`
	Types       []string `json:"types"`
	DeleteAdded bool     `json:"delete_added"`
}

// restoreLimit keeps one restore to a size a single deploy carries.
const restoreLimit = 10000

// RestorePlan is what a restore would deploy.
type RestorePlan struct {
	SnapshotID int64                     `json:"snapshot_id"`
	Components []alm.DeploymentComponent `json:"components"`
	Unchanged  []alm.DeploymentComponent `json:"unchanged"` // the org's latest snapshot had these as the backup does
	TestLevel  string                    `json:"test_level"`
	plan       artifact.Plan
	apiVersion string
}

// Restore queues a restore deployment: the snapshot's versions of the
// chosen components, deployed like any other. The deploy job retrieves
// what it will touch first, so a restore can itself be rolled back.
func (s *Service) Restore(ctx context.Context, r RestoreRequest) (alm.Deployment, error) {
	rp, err := s.PlanRestore(ctx, r)
	if err != nil {
		return alm.Deployment{}, err
	}
	art, err := artifact.Package(rp.plan, rp.apiVersion)
	if err != nil {
		return alm.Deployment{}, alm.Errorf(alm.CodeInvalid, "The restore could not be packaged: %v", err)
	}
	return s.st.CreateDeployment(ctx, store.NewDeployment{OrgID: r.OrgID, Kind: "restore", TestLevel: rp.TestLevel, Artifact: art.Zip, Checksum: art.Checksum,
		Components: rp.Components, RestoreOf: rp.SnapshotID, Job: s.deploy})
}

// PlanRestore works out what a restore would deploy (the dry run).
func (s *Service) PlanRestore(ctx context.Context, r RestoreRequest) (RestorePlan, error) {
	var rp RestorePlan
	sn, err := s.st.SnapshotByID(ctx, r.SnapshotID)
	if err != nil {
		return rp, err
	}
	if sn.OrgID == nil || *sn.OrgID != r.OrgID {
		return rp, alm.Invalid(map[string]string{"snapshot_id": "Choose a snapshot of this org."})
	}
	if sn.Status != alm.SnapDone {
		return rp, alm.Errorf(alm.CodeConflict, "Snapshot #%d has not finished (%s).", sn.ID, sn.Status)
	}
	if len(r.Components) == 0 && len(r.Types) == 0 {
		return rp, alm.Invalid(map[string]string{"components": "Choose components or whole types to restore."})
	}
	org, err := s.st.OrgByID(ctx, r.OrgID)
	if err != nil {
		return rp, err
	}
	backup, err := s.st.SnapshotManifest(ctx, sn.ID)
	if err != nil {
		return rp, err
	}
	wantComp := map[string]bool{}
	for _, c := range r.Components {
		wantComp[strings.ToLower(c)] = true
	}
	// What the org held at its latest snapshot: the preview says which
	// chosen components it already had as the backup does. They are
	// deployed all the same, since the org may have changed since.
	current := map[string]string{}
	if now, err := s.st.LatestSnapshot(ctx, r.OrgID); err == nil && now.ID != sn.ID {
		m, err := s.st.SnapshotManifest(ctx, now.ID)
		if err != nil {
			return rp, err
		}
		for _, e := range m {
			current[strings.ToLower(e.Type+"/"+e.Name)] = e.Hash
		}
	}
	var p artifact.Plan
	var dc []alm.DeploymentComponent
	found := map[string]bool{}
	for _, e := range backup {
		k := strings.ToLower(e.Type + "/" + e.Name)
		if !wantComp[k] && !slices.Contains(r.Types, e.Type) {
			continue
		}
		found[k] = true
		if current[k] == e.Hash {
			rp.Unchanged = append(rp.Unchanged, alm.DeploymentComponent{Type: e.Type, Name: e.Name, Change: "unchanged", Hash: e.Hash})
		}
		data, err := s.st.BlobData(ctx, e.Hash)
		if err != nil {
			return rp, err
		}
		p.Components = append(p.Components, artifact.Capture{Type: e.Type, Name: e.Name, Change: "changed", Hash: e.Hash, Content: data})
		dc = append(dc, alm.DeploymentComponent{Type: e.Type, Name: e.Name, Change: "changed", Hash: e.Hash})
	}
	var missing []string
	for _, c := range r.Components {
		if !found[strings.ToLower(c)] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return rp, alm.Invalid(map[string]string{"components": "Not in snapshot #" + fmt.Sprint(sn.ID) + ": " + strings.Join(missing, ", ") + "."})
	}
	if r.DeleteAdded && len(r.Types) > 0 {
		now, err := s.st.LatestSnapshot(ctx, r.OrgID)
		if err != nil {
			return rp, err
		}
		latest, err := s.st.SnapshotManifest(ctx, now.ID)
		if err != nil {
			return rp, err
		}
		for _, e := range deletion.Added(latest, backup, r.Types) {
			p.Components = append(p.Components, artifact.Capture{Type: e.Type, Name: e.Name, Change: "deleted"})
			dc = append(dc, alm.DeploymentComponent{Type: e.Type, Name: e.Name, Change: "deleted"})
		}
	}
	if len(p.Components) == 0 {
		return rp, alm.Invalid(map[string]string{"types": "Snapshot #" + fmt.Sprint(sn.ID) + " holds nothing of those types."})
	}
	if len(p.Components) > restoreLimit {
		return rp, alm.Invalid(map[string]string{"types": fmt.Sprintf("That is %d components; restore at most %d at a time.", len(p.Components), restoreLimit)})
	}
	slices.SortFunc(p.Components, func(a, b artifact.Capture) int { return strings.Compare(a.Type+a.Name, b.Type+b.Name) })
	slices.SortFunc(dc, func(a, b alm.DeploymentComponent) int { return strings.Compare(a.Type+a.Name, b.Type+b.Name) })
	// Production runs local tests when Apex goes in, and otherwise takes
	// the org's default (it refuses NoTestRun outright); elsewhere none run.
	level := "NoTestRun"
	if org.Kind == alm.OrgProduction {
		level = ""
		if hasApex(p) {
			level = "RunLocalTests"
		}
	}
	if rp.Unchanged == nil {
		rp.Unchanged = []alm.DeploymentComponent{}
	}
	rp.SnapshotID, rp.Components, rp.TestLevel, rp.plan, rp.apiVersion = sn.ID, dc, level, p, org.APIVersion
	return rp, nil
}

func hasApex(p artifact.Plan) bool {
	for _, c := range p.Components {
		if c.Type == "ApexClass" || c.Type == "ApexTrigger" {
			return true
		}
	}
	return false
}
