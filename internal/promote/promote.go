// Package promote moves builds through a project's pipeline: it opens
// promotions, judges them against the stage policy (approvals, validation,
// coverage, static checks, change windows, freezes), records decisions and
// sign-offs, and prepares deployments and rollbacks for the deploy job.
package promote

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/artifact"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/checks"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Service runs promotions.
type Service struct {
	st     *store.Store
	deploy store.Job
}

// New returns a Service; deploy queues the deploy job of each deployment
// it records (deploys, rollbacks, restores) with the deployment, nil for
// callers that run deployments themselves.
func New(st *store.Store, deploy store.Job) *Service { return &Service{st: st, deploy: deploy} }

// Open opens a promotion of a build into a stage (named, or by position
// when stage is empty: the first stage it is not yet deployed in).
func (s *Service) Open(ctx context.Context, buildID int64, stage string) (alm.Promotion, error) {
	pid, _, _, err := s.st.BuildProject(ctx, buildID)
	if err != nil {
		return alm.Promotion{}, err
	}
	stages, err := s.st.Pipeline(ctx, pid)
	if err != nil {
		return alm.Promotion{}, err
	}
	if len(stages) == 0 {
		return alm.Promotion{}, alm.Errorf(alm.CodeInvalid, "The project has no pipeline yet: set its stages under Develop → Pipeline first.")
	}
	var st *alm.Stage
	if strings.TrimSpace(stage) == "" {
		for i := range stages {
			ok, err := s.deployedIn(ctx, buildID, stages[i])
			if err != nil {
				return alm.Promotion{}, err
			}
			if !ok {
				st = &stages[i]
				break
			}
		}
		if st == nil {
			return alm.Promotion{}, alm.Errorf(alm.CodeConflict, "This build is already deployed in every stage.")
		}
	} else {
		for i := range stages {
			if strings.EqualFold(stages[i].Name, strings.TrimSpace(stage)) {
				st = &stages[i]
			}
		}
		if st == nil {
			return alm.Promotion{}, alm.Invalid(map[string]string{"stage": fmt.Sprintf("There is no stage %q in the pipeline.", stage)})
		}
	}
	if st.OrgID == nil {
		return alm.Promotion{}, alm.Invalid(map[string]string{"stage": st.Name + " has no org: bind one in the pipeline first."})
	}
	return s.st.CreatePromotion(ctx, store.NewPromotion{ProjectID: pid, BuildID: buildID, StagePosition: st.Position, StageName: st.Name, OrgID: *st.OrgID})
}

func (s *Service) deployedIn(ctx context.Context, buildID int64, st alm.Stage) (bool, error) {
	if st.OrgID == nil {
		return false, nil
	}
	return s.st.DeployedIn(ctx, buildID, *st.OrgID)
}

// Stage returns the promotion's stage as the pipeline has it now, and the
// stage before it (nil when first).
func (s *Service) Stage(ctx context.Context, p alm.Promotion) (alm.Stage, *alm.Stage, error) {
	stages, err := s.st.Pipeline(ctx, p.ProjectID)
	if err != nil {
		return alm.Stage{}, nil, err
	}
	st, prev := stageIn(stages, p)
	return st, prev, nil
}

func stageIn(stages []alm.Stage, p alm.Promotion) (alm.Stage, *alm.Stage) {
	for i, st := range stages {
		if strings.EqualFold(st.Name, p.StageName) {
			if i > 0 {
				return st, &stages[i-1]
			}
			return st, nil
		}
	}
	// The stage was removed from the pipeline since: it can no longer be
	// promoted into.
	return alm.Stage{Name: p.StageName, OrgID: &p.OrgID, OrgName: p.OrgName, TestLevel: "RunLocalTests", Frozen: true,
		FreezeReason: "the stage is no longer in the pipeline"}, nil
}

// Detail is everything the promotion page shows.
type Detail struct {
	Promotion   alm.Promotion
	Stage       alm.Stage
	Gates       []alm.Gate
	Decisions   []alm.Decision
	Comments    []alm.PromotionComment
	Signoffs    []alm.Signoff
	Deployments []alm.Deployment
	Validation  *alm.Validation
	Findings    []checks.Finding
	WorkItems   []string
	ItemTitles  map[string]string              // work item key → title
	Criteria    map[string][]alm.ItemCriterion // work item key → its requirements' acceptance criteria
	Diff        []Change                       // what will change in the target
	Target      alm.Snapshot
	DiffErr     string
}

// Change is one component of the build against the target's latest
// snapshot.
type Change struct {
	Type, Name, WorkItem string
	Change               string // new, changed, unchanged, delete, absent (a deletion of something not there)
	Hash, TargetHash     string
}

// Detail gathers a promotion's page.
func (s *Service) Detail(ctx context.Context, id int64) (Detail, error) {
	return s.detail(ctx, id, true)
}

// Live gathers the part of the page that moves while a deploy runs (the
// header, gates, actions, deployments), which is polled: it leaves out the
// diff against the target, the discussion and sign-offs, and reads the
// static checks only when the stage blocks on them.
func (s *Service) Live(ctx context.Context, id int64) (Detail, error) {
	return s.detail(ctx, id, false)
}

func (s *Service) detail(ctx context.Context, id int64, full bool) (Detail, error) {
	p, err := s.st.PromotionByID(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Promotion: p}
	stages, err := s.st.Pipeline(ctx, p.ProjectID)
	if err != nil {
		return d, err
	}
	st, prev := stageIn(stages, p)
	d.Stage = st
	if d.Decisions, err = s.st.PromotionDecisions(ctx, id); err != nil {
		return d, err
	}
	if d.Deployments, err = s.st.ListDeployments(ctx, id); err != nil {
		return d, err
	}
	if d.Validation, err = s.st.LatestValidation(ctx, p.BuildID, p.OrgID); alm.ErrorCode(err) == alm.CodeNotFound {
		d.Validation, err = nil, nil
	}
	if err != nil {
		return d, err
	}
	if p.BuildID == 0 {
		// A merge waiting on its conflicts: nothing is built yet.
		if full {
			if d.Comments, err = s.st.PromotionComments(ctx, id); err != nil {
				return d, err
			}
		}
		d.Gates = []alm.Gate{{Name: "Merge", OK: false, Detail: "The merge has conflicts to settle before it can be built."}}
		return d, nil
	}
	if full || st.BlockChecks != "" {
		org, err := s.st.OrgByID(ctx, p.OrgID)
		if err != nil {
			return d, err
		}
		if d.Findings, err = build.New(s.st).StaticChecks(ctx, p.BuildID, org.APIVersion); err != nil {
			return d, err
		}
	}
	in := alm.GateInput{Stage: st, BuildID: p.BuildID, Decisions: d.Decisions, Validation: d.Validation, Now: s.st.Now(),
		Blocking: blocking(d.Findings, st.BlockChecks)}
	switch {
	case prev != nil && p.Git != nil:
		// A merge is built per stage: what went before is the work item
		// (a branch deployed as it is has no earlier stage to wait for).
		in.PreviousStage, in.PreviousOK = prev.Name, true
		if p.WorkItem != "" {
			it, err := s.st.WorkItemByKey(ctx, p.WorkItem)
			if err != nil {
				return d, err
			}
			if in.PreviousOK, err = s.st.PromotedIn(ctx, it.ID, prev.Name); err != nil {
				return d, err
			}
		}
	case prev != nil:
		in.PreviousStage = prev.Name
		if in.PreviousOK, err = s.deployedIn(ctx, p.BuildID, *prev); err != nil {
			return d, err
		}
	}
	d.Gates = alm.Gates(in)
	if !full {
		return d, nil
	}
	if d.Comments, err = s.st.PromotionComments(ctx, id); err != nil {
		return d, err
	}
	if d.Signoffs, err = s.st.Signoffs(ctx, id); err != nil {
		return d, err
	}
	_, comps, err := s.st.BuildByID(ctx, p.BuildID)
	if err != nil {
		return d, err
	}
	for _, c := range comps {
		if !slices.Contains(d.WorkItems, c.WorkItem) && c.WorkItem != "" {
			d.WorkItems = append(d.WorkItems, c.WorkItem)
		}
	}
	slices.Sort(d.WorkItems)
	if d.ItemTitles, err = s.st.WorkItemTitles(ctx, d.WorkItems); err != nil {
		return d, err
	}
	if d.Criteria, err = s.st.CriteriaOfItems(ctx, d.WorkItems); err != nil {
		return d, err
	}
	d.Diff, d.Target, d.DiffErr, err = s.diff(ctx, comps, p.OrgID)
	if err == nil && d.DiffErr != "" && p.Git != nil {
		// A merge's build is itself what changes: show it from git.
		d.DiffErr = ""
		for _, c := range comps {
			ch := c.Change
			if ch == "deleted" {
				ch = "delete"
			}
			d.Diff = append(d.Diff, Change{Type: c.Type, Name: c.Name, WorkItem: c.WorkItem, Hash: c.Hash, Change: ch})
		}
	}
	return d, err
}

func blocking(fs []checks.Finding, level string) int {
	n := 0
	for _, f := range fs {
		if (level == "error" && f.Severity == checks.Error) || (level == "warning" && (f.Severity == checks.Error || f.Severity == checks.Warning)) {
			n++
		}
	}
	return n
}

// diff compares the build's components with the target's latest snapshot.
func (s *Service) diff(ctx context.Context, comps []alm.BuildComponent, orgID int64) ([]Change, alm.Snapshot, string, error) {
	sn, err := s.st.LatestSnapshot(ctx, orgID)
	if err != nil {
		if alm.ErrorCode(err) != alm.CodeInternal {
			return nil, sn, "The target has no snapshot yet, so what will change cannot be shown: take one from its org page.", nil
		}
		return nil, sn, "", err
	}
	man, err := s.st.SnapshotManifest(ctx, sn.ID)
	if err != nil {
		return nil, sn, "", err
	}
	have := map[string]string{}
	for _, e := range man {
		have[e.Type+"\x00"+strings.ToLower(e.Name)] = e.Hash
	}
	var out []Change
	for _, c := range comps {
		h, ok := have[c.Type+"\x00"+strings.ToLower(c.Name)]
		ch := Change{Type: c.Type, Name: c.Name, WorkItem: c.WorkItem, Hash: c.Hash, TargetHash: h}
		switch {
		case c.Change == "deleted" && ok:
			ch.Change = "delete"
		case c.Change == "deleted":
			ch.Change = "absent"
		case !ok:
			ch.Change = "new"
		case h == c.Hash:
			ch.Change = "unchanged"
		default:
			ch.Change = "changed"
		}
		out = append(out, ch)
	}
	return out, sn, "", nil
}

// Cancel stops a promotion: while it deploys, it asks the org to cancel
// the running deployment (returned); otherwise it abandons the promotion
// with reason. It refuses, saying why, when there is nothing to stop.
func (s *Service) Cancel(ctx context.Context, id int64, reason string) (*alm.Deployment, error) {
	p, err := s.st.PromotionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Status != alm.PromoDeploying {
		return nil, s.st.AbandonPromotion(ctx, id, reason)
	}
	ds, err := s.st.ListDeployments(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, alm.Errorf(alm.CodeConflict, "Promotion #%d is deploying but has no deployment to cancel.", id)
	}
	d, err := s.st.RequestCancel(ctx, ds[0].ID)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Approve records user's approval, refusing roles the stage does not
// name and, under the no-self-approval rule, people who worked on the
// build.
func (s *Service) Approve(ctx context.Context, u alm.User, role alm.Role, id int64, note string) error {
	p, err := s.st.PromotionByID(ctx, id)
	if err != nil {
		return err
	}
	if err := alm.CheckMove(p.Status, alm.ActApprove); err != nil {
		return err
	}
	st, _, err := s.Stage(ctx, p)
	if err != nil {
		return err
	}
	if err := s.mayDecide(ctx, u, role, st, p); err != nil {
		return err
	}
	return s.st.Approve(ctx, id, u, role, strings.TrimSpace(note))
}

func (s *Service) mayDecide(ctx context.Context, u alm.User, role alm.Role, st alm.Stage, p alm.Promotion) error {
	if st.ApprovalsRequired == 0 && !role.Can(alm.PermPromote) {
		return alm.Errorf(alm.CodeForbidden, "%s needs no approvals; only release managers decide on its promotions.", st.Name)
	}
	if st.ApprovalsRequired > 0 && !slices.Contains(st.ApproverRoles, role) {
		return alm.Errorf(alm.CodeForbidden, "Approvals for %s come from %s; your role is %s.", st.Name, approvers(st.ApproverRoles), role.Label())
	}
	if st.NoSelfApproval {
		authors, err := s.st.BuildAuthors(ctx, p.BuildID)
		if err != nil {
			return err
		}
		if slices.Contains(authors, u.ID) {
			return alm.Errorf(alm.CodeForbidden, "You worked on what this build holds, and %s does not allow self-approval: ask another approver.", st.Name)
		}
	}
	return nil
}

func approvers(rs []alm.Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Label())
	}
	return strings.Join(s, " or ")
}

// Reject ends a promotion with a reason; its work items go back to
// development flagged.
func (s *Service) Reject(ctx context.Context, u alm.User, role alm.Role, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return alm.Invalid(map[string]string{"reason": "Say why, so the developers know what to fix."})
	}
	p, err := s.st.PromotionByID(ctx, id)
	if err != nil {
		return err
	}
	if err := alm.CheckMove(p.Status, alm.ActReject); err != nil {
		return err
	}
	st, _, err := s.Stage(ctx, p)
	if err != nil {
		return err
	}
	if !role.Can(alm.PermPromote) && !slices.Contains(st.ApproverRoles, role) {
		return alm.Errorf(alm.CodeForbidden, "Only %s approvers or release managers can reject.", st.Name)
	}
	return s.st.Reject(ctx, id, u, role, reason)
}

// Deploy prepares the deployment of an open promotion (or a retry of a
// failed or canceled one) once its gates are open. An admin may override
// shut gates that allow it (change windows, freezes); the override is
// recorded. The caller queues the deploy job.
func (s *Service) Deploy(ctx context.Context, u alm.User, role alm.Role, id int64, override bool, reason string) (alm.Deployment, error) {
	reason = strings.TrimSpace(reason)
	if override && !role.Can(alm.PermOverrideWindows) {
		return alm.Deployment{}, alm.Errorf(alm.CodeForbidden, "Only admins can override a freeze or change window.")
	}
	d, err := s.Live(ctx, id)
	if err != nil {
		return alm.Deployment{}, err
	}
	p := d.Promotion
	action := alm.ActDeploy
	if p.Status == alm.PromoFailed || p.Status == alm.PromoCanceled {
		action = alm.ActRetry
	}
	if err := alm.CheckMove(p.Status, action); err != nil {
		return alm.Deployment{}, err
	}
	blocked, overridable := alm.Blocked(d.Gates)
	note := ""
	if blocked {
		var shut []string
		for _, g := range d.Gates {
			if !g.OK {
				shut = append(shut, g.Name+": "+g.Detail)
			}
		}
		if !override || !overridable {
			msg := "Not yet: " + strings.Join(shut, " ")
			if overridable && role.Can(alm.PermOverrideWindows) {
				msg += " As an admin you may deploy anyway, giving a reason; the override is recorded."
			}
			return alm.Deployment{}, alm.Errorf(alm.CodeConflict, "%s", msg)
		}
		if reason == "" {
			return alm.Deployment{}, alm.Invalid(map[string]string{"reason": "Say why you override the gate; the reason is recorded on the promotion and in the audit log."})
		}
		if len(reason) > 1000 {
			return alm.Deployment{}, alm.Invalid(map[string]string{"reason": "Keep the reason under 1,000 characters."})
		}
		note = u.Name + " (" + u.Email + ") overrode " + strings.Join(shut, " ") + " Reason: " + reason
	}
	_, comps, err := s.st.BuildByID(ctx, p.BuildID)
	if err != nil {
		return alm.Deployment{}, err
	}
	var dc []alm.DeploymentComponent
	for _, c := range comps {
		dc = append(dc, alm.DeploymentComponent{Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash, WorkItem: c.WorkItem})
	}
	return s.st.CreateDeployment(ctx, store.NewDeployment{PromotionID: id, OrgID: p.OrgID, BuildID: p.BuildID, Kind: "deploy",
		TestLevel: d.Stage.TestLevel, Checksum: p.Checksum, Override: note, Components: dc, Action: action, Job: s.deploy})
}

// Rollback prepares a deployment that puts back what a deployment
// replaced and deletes what it added: all of it, or the chosen components
// ("Type/Name"). The rollback takes its own pre-deploy snapshot, so it can
// be rolled back too.
func (s *Service) Rollback(ctx context.Context, deploymentID int64, only []string) (alm.Deployment, error) {
	dep, err := s.st.DeploymentByID(ctx, deploymentID)
	if err != nil {
		return dep, err
	}
	if dep.Status != "succeeded" && dep.Status != "failed" {
		return alm.Deployment{}, alm.Errorf(alm.CodeConflict, "Only a finished deployment can be rolled back (this one is %s).", dep.Status)
	}
	comps, err := s.st.DeploymentComponents(ctx, deploymentID)
	if err != nil {
		return alm.Deployment{}, err
	}
	want := map[string]bool{}
	for _, k := range only {
		want[strings.ToLower(k)] = true
	}
	var p artifact.Plan
	var dc []alm.DeploymentComponent
	for _, c := range comps {
		if len(want) > 0 && !want[strings.ToLower(c.Type+"/"+c.Name)] {
			continue
		}
		if c.Existed == nil {
			return alm.Deployment{}, alm.Errorf(alm.CodeConflict, "Deployment #%d has no pre-deploy snapshot of %s %s, so it cannot be rolled back automatically.", deploymentID, c.Type, c.Name)
		}
		bc := artifact.Capture{Type: c.Type, Name: c.Name, WorkItem: c.WorkItem}
		switch {
		case *c.Existed:
			bc.Change, bc.Hash = "changed", c.PreviousHash
			if bc.Content, err = s.st.BlobData(ctx, c.PreviousHash); err != nil {
				return alm.Deployment{}, err
			}
		case c.Change != "deleted":
			bc.Change = "deleted"
		default:
			continue // deleted something that was not there: nothing to undo
		}
		p.Components = append(p.Components, bc)
		dc = append(dc, alm.DeploymentComponent{Type: bc.Type, Name: bc.Name, Change: bc.Change, Hash: bc.Hash, WorkItem: c.WorkItem})
	}
	if len(p.Components) == 0 {
		return alm.Deployment{}, alm.Invalid(map[string]string{"components": "Nothing to roll back: choose at least one component the deployment changed."})
	}
	apiVersion := "64.0"
	if dep.BuildID != nil {
		if b, _, err := s.st.BuildByID(ctx, *dep.BuildID); err == nil {
			apiVersion = b.APIVersion
		}
	}
	slices.SortFunc(p.Components, func(a, b artifact.Capture) int { return strings.Compare(a.Type+a.Name, b.Type+b.Name) })
	art, err := artifact.Package(p, apiVersion)
	if err != nil {
		return alm.Deployment{}, alm.Errorf(alm.CodeInvalid, "The rollback could not be packaged: %v", err)
	}
	n := store.NewDeployment{OrgID: dep.OrgID, Kind: "rollback", RollbackOf: dep.ID, TestLevel: rollbackTests(dep.TestLevel, p),
		Artifact: art.Zip, Checksum: art.Checksum, Components: dc, Action: alm.ActRollback, Job: s.deploy}
	if dep.PromotionID != nil {
		n.PromotionID = *dep.PromotionID
		pr, err := s.st.PromotionByID(ctx, *dep.PromotionID)
		if err != nil {
			return alm.Deployment{}, err
		}
		if err := alm.CheckMove(pr.Status, alm.ActRollback); err != nil {
			return alm.Deployment{}, err
		}
	}
	return s.st.CreateDeployment(ctx, n)
}

// FullRollback reports whether a rollback deployment undoes everything
// the deployment it rolls back changed.
func FullRollback(rollback, original []alm.DeploymentComponent) bool {
	return len(rollback) >= CountRollbackable(original)
}

// CountRollbackable counts the components a rollback of a deployment
// would touch.
func CountRollbackable(comps []alm.DeploymentComponent) int {
	n := 0
	for _, c := range comps {
		if c.Existed != nil && (*c.Existed || c.Change != "deleted") {
			n++
		}
	}
	return n
}

// rollbackTests keeps the deployment's test level for rollbacks that put
// Apex back; others take the org's default, which runs no tests for a
// deploy without Apex (production refuses an explicit NoTestRun).
func rollbackTests(level string, p artifact.Plan) string {
	for _, c := range p.Components {
		if c.Type == "ApexClass" || c.Type == "ApexTrigger" {
			return level
		}
	}
	return ""
}

// SignOff records a tester's sign-off of a work item, or returns it.
func (s *Service) SignOff(ctx context.Context, id int64, workItem string, returned bool, note string) error {
	note = strings.TrimSpace(note)
	decision := "signed_off"
	if returned {
		decision = "returned"
		if note == "" {
			return alm.Invalid(map[string]string{"note": "Say why it goes back, so the developer knows what to fix."})
		}
	}
	return s.st.AddSignoff(ctx, id, workItem, decision, note)
}

// Comment adds a remark to a promotion.
func (s *Service) Comment(ctx context.Context, id int64, body string) error {
	body = strings.TrimSpace(body)
	if body == "" {
		return alm.Invalid(map[string]string{"body": "Write something first."})
	}
	if len(body) > 5000 {
		return alm.Invalid(map[string]string{"body": "Keep a comment under 5,000 characters."})
	}
	return s.st.AddPromotionComment(ctx, id, body)
}

// PreviousVersions reads what a retrieve of the target found, keyed as
// RecordPreDeploy expects.
func PreviousVersions(m snapshot.Manifest) map[string]string {
	out := make(map[string]string, len(m))
	for _, e := range m {
		out[e.Type+"\x00"+strings.ToLower(e.Name)] = e.Hash
	}
	return out
}
