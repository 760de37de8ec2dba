// Package demo fills a new Trellis with something to look at: three
// simulated orgs (Dev, UAT, Production) running a small subscriptions app,
// a git repository of it, a project with requirements, discussions and
// work items, a release waiting for approval in UAT, backups, a drift
// alert, and one user per role. `make run` starts it (TRELLIS_DEMO).
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/gitflow"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/trackersim"
	"github.com/trellis-alm/trellis/internal/tracksync"
)

// ProjectKey is the demo project's key; its presence means "seeded".
const ProjectKey = "SUBS"

// Config is what the demo runs on.
type Config struct {
	DataDir string // the simulated orgs, the repository and the passwords live under DataDir/demo
	Addr    string // where the first simulated org listens (fixed, so stored org URLs stay valid)
	Store   *store.Store
	Orgs    *orgs.Service
	Repos   *repos.Service
	Jobs    *jobs.Client
	Logger  *slog.Logger
	// Tracker syncs the demo project with its simulated Jira, served on
	// TrackerAddr; BaseURL is where the simulated Jira sends its webhooks.
	Tracker     *tracksync.Service
	TrackerAddr string
	BaseURL     string
}

// Demo is a running demo: its simulated orgs and who can sign in.
type Demo struct {
	Sim   *orgsim.Sim
	Users []User
	// Tracker is the simulated Jira the demo project plans in (nil when
	// it could not start); TrackerURL is where it answers.
	Tracker    *trackersim.Sim
	TrackerURL string
	tracker    *http.Server
	ready      chan struct{}
}

// User is a demo sign-in.
type User struct {
	Email, Password string
	Role            alm.Role
}

// Ready is closed when the background part (snapshots, the release, the
// drift alert) has finished.
func (d *Demo) Ready() <-chan struct{} { return d.ready }

// Close stops the simulated orgs.
func (d *Demo) Close() {
	if d.Sim != nil {
		d.Sim.Close()
	}
	if d.tracker != nil {
		_ = d.tracker.Close()
	}
}

var roles = []struct {
	role        alm.Role
	email, name string
}{
	{alm.RoleAdmin, "admin@demo.trellis.test", "Ada Admin"},
	{alm.RoleReleaseManager, "release@demo.trellis.test", "Rae Release"},
	{alm.RoleDeveloper, "dev@demo.trellis.test", "Dev Dana"},
	{alm.RoleProductOwner, "owner@demo.trellis.test", "Olu Owner"},
	{alm.RoleViewer, "viewer@demo.trellis.test", "Vic Viewer"},
}

// Start starts the simulated orgs and, the first time, seeds everything;
// the slow part (snapshots, a build, the promotion, the drift alert) goes
// on in the background and closes Ready when done.
func Start(ctx context.Context, cfg Config) (*Demo, error) {
	dir := filepath.Join(cfg.DataDir, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{"dev", "uat", "prod"}, DataDir: filepath.Join(dir, "orgs"), Addr: cfg.Addr,
		Step: 300 * time.Millisecond, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("demo orgs: %w", err)
	}
	d := &Demo{Sim: sim, ready: make(chan struct{})}
	if cfg.Tracker != nil && cfg.TrackerAddr != "" {
		if d.Tracker, d.tracker, d.TrackerURL, err = startTracker(dir, cfg.TrackerAddr); err != nil {
			log.Warn("demo: the simulated Jira could not start", slog.Any("err", err))
		}
	}
	if d.Users, err = users(ctx, cfg.Store, dir); err != nil {
		sim.Close()
		return nil, err
	}
	admin, err := cfg.Store.UserByEmail(ctx, roles[0].email)
	if err != nil {
		sim.Close()
		return nil, err
	}
	ctx = alm.WithActor(ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})
	if p, err := cfg.Store.ProjectByKey(ctx, ProjectKey); err == nil {
		// Seeded on an earlier start (perhaps before the demo had a
		// tracker).
		if err := d.connectTracker(ctx, cfg, p); err != nil {
			log.Warn("demo: connecting the simulated Jira", slog.Any("err", err))
		}
		close(d.ready)
		return d, nil
	}
	s := &seeder{cfg: cfg, dir: dir, sim: sim, log: log}
	if err := s.seed(ctx); err != nil {
		sim.Close()
		return nil, err
	}
	go func() {
		defer close(d.ready)
		if err := d.connectTracker(context.WithoutCancel(ctx), cfg, s.project); err != nil {
			log.Warn("demo: connecting the simulated Jira", slog.Any("err", err))
		}
		if err := s.background(context.WithoutCancel(ctx)); err != nil {
			log.Warn("demo: part of the demo could not be set up", slog.Any("err", err))
		}
	}()
	return d, nil
}

// users makes one user per role the first time, with random passwords
// kept in the demo directory, and returns them.
func users(ctx context.Context, st *store.Store, dir string) ([]User, error) {
	path := filepath.Join(dir, "users.txt")
	saved := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if email, pw, ok := strings.Cut(line, " "); ok {
				saved[email] = pw
			}
		}
	}
	var out []User
	var lines []string
	for _, r := range roles {
		pw, ok := saved[r.email]
		if _, err := st.UserByEmail(ctx, r.email); err != nil || !ok {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			pw = "demo-" + base64.RawURLEncoding.EncodeToString(b)
			hash, err := auth.HashPassword(pw)
			if err != nil {
				return nil, err
			}
			if u, err := st.UserByEmail(ctx, r.email); err == nil {
				// The passwords file was lost: the demo user gets a new one.
				if err := st.SetPassword(ctx, u.ID, hash, false, nil, "user.password_reset"); err != nil {
					return nil, err
				}
			} else if _, err := st.CreateUser(ctx, alm.NewUser{Email: r.email, Name: r.name, Role: r.role}, hash, false); err != nil {
				return nil, fmt.Errorf("demo user %s: %w", r.email, err)
			}
		}
		out = append(out, User{Email: r.email, Password: pw, Role: r.role})
		lines = append(lines, r.email+" "+pw)
	}
	return out, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

type seeder struct {
	cfg     Config
	dir     string
	sim     *orgsim.Sim
	log     *slog.Logger
	orgs    map[string]alm.Org
	project alm.Project
	item    alm.WorkItem
	release alm.Release
	repo    alm.Repository
}

func (s *seeder) seed(ctx context.Context) error {
	st := s.cfg.Store
	// The app's repository.
	repoDir := filepath.Join(s.dir, "subscriptions-app")
	if err := writeRepo(repoDir); err != nil {
		return fmt.Errorf("demo repository: %w", err)
	}
	// The app runs in UAT and Production; Dev has the work in progress too.
	// It goes in before Trellis connects the orgs, as if it had always
	// been there: the first backups then see it, rather than taking it for
	// changes made outside Trellis.
	for name, files := range map[string]map[string]string{"uat": appFiles, "prod": appFiles, "dev": merged(appFiles, devChanges)} {
		if err := s.deploy(ctx, s.sim.Org(name), files); err != nil {
			s.log.Warn("demo: deploying the sample app", slog.String("org", name), slog.Any("err", err))
		}
	}
	// The orgs, connected by JWT with the simulator's keys.
	s.orgs = map[string]alm.Org{}
	for _, o := range []struct {
		sim, name string
		kind      alm.OrgKind
	}{{"dev", "Dev", alm.OrgDeveloperSandbox}, {"uat", "UAT", alm.OrgFullSandbox}, {"prod", "Production", alm.OrgProduction}} {
		so := s.sim.Org(o.sim)
		key, err := os.ReadFile(so.KeyFile())
		if err != nil {
			return err
		}
		info := so.Info()
		org, err := s.cfg.Orgs.ConnectJWT(ctx, alm.NewOrg{Name: o.name, Kind: o.kind, LoginURL: info.LoginURL, ClientID: info.ClientID, Username: info.Username}, string(key))
		if err != nil {
			return fmt.Errorf("demo org %s: %w", o.name, err)
		}
		s.orgs[o.sim] = org
	}
	if s.cfg.Repos != nil {
		// A file URL needs an absolute path: "file://.trellis/…" names a host.
		abs, err := filepath.Abs(repoDir)
		if err != nil {
			return err
		}
		repo, err := s.cfg.Repos.Connect(ctx, repos.NewRepo{Name: "subscriptions-app", URL: "file://" + abs})
		if err != nil {
			s.log.Warn("demo: connecting the repository", slog.Any("err", err))
		} else {
			s.repo = repo
		}
	}
	if err := s.plan(ctx, st); err != nil {
		return err
	}
	if s.repo.ID != 0 {
		if err := s.gitBacked(ctx); err != nil {
			s.log.Warn("demo: backing the project with git", slog.Any("err", err))
		}
	}
	return nil
}

func merged(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// deploy puts source files into a simulated org, as a deploy of their
// metadata over the org's own session.
func (s *seeder) deploy(ctx context.Context, so *orgsim.Org, files map[string]string) error {
	fsys := map[string][]byte{}
	for p, c := range files {
		fsys[p] = []byte(c)
	}
	proj, err := metadata.LoadProject(metadata.MemFS(fsys))
	if err != nil {
		return err
	}
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return err
	}
	pkg, err := metadata.BuildPackage(metadata.PackageSpec{Components: res.Set, Version: "62.0"})
	if err != nil {
		return err
	}
	zip := pkg.Zip
	info := so.Info()
	client, err := salesforce.New(salesforce.Config{Name: so.Name, Credentials: salesforce.StaticCredentials{Tok: &salesforce.Token{
		AccessToken: info.AccessToken, InstanceURL: info.InstanceURL}}})
	if err != nil {
		return err
	}
	level := salesforce.TestLevel("NoTestRun")
	if so.Kind() == orgsim.Production {
		level = "RunLocalTests"
	}
	id, err := client.Deploy(ctx, zip, salesforce.DeployOptions{TestLevel: level, SinglePackage: true, RollbackOnError: true, IgnoreWarnings: true})
	if err != nil {
		return err
	}
	r, err := client.WaitDeploy(ctx, id, nil)
	if err != nil {
		return err
	}
	if !r.Success {
		var why []string
		for _, f := range r.Details.ComponentFailures {
			why = append(why, f.FileName+": "+f.Problem)
		}
		return fmt.Errorf("the org refused the sample app (%s): %s", r.Status, strings.Join(why, "; "))
	}
	return nil
}

// writeRepo makes the app's repository as a team's git host holds it: a
// bare repository (Trellis pushes merges to it) with main, and uat made
// from it, for the pipeline's environment branches.
func writeRepo(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return nil
	}
	src := dir + ".src"
	defer os.RemoveAll(src)
	paths := make([]string, 0, len(appFiles))
	for p := range appFiles {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(appFiles[p]), 0o644); err != nil {
			return err
		}
	}
	r, err := git.PlainInit(src, false)
	if err != nil {
		return err
	}
	if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))); err != nil {
		return err
	}
	w, err := r.Worktree()
	if err != nil {
		return err
	}
	if err := w.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return err
	}
	main, err := w.Commit("Subscriptions app: object, renewal service, flow, badge", &git.CommitOptions{
		Author: &object.Signature{Name: "Dev Dana", Email: "dev@demo.trellis.test", When: time.Now()}})
	if err != nil {
		return err
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("uat"), main)); err != nil {
		return err
	}
	_, err = git.PlainClone(dir, true, &git.CloneOptions{URL: src, Mirror: true})
	return err
}

// gitBacked keeps the project's metadata in the app's repository, with
// environment branches (uat, main), and gives the demo work item its
// branch with Dev's change committed to it, as a developer would from
// their sandbox.
func (s *seeder) gitBacked(ctx context.Context) error {
	st := s.cfg.Store
	if _, err := st.SetProjectGit(ctx, s.project.ID, &s.repo.ID, alm.BranchingEnvironment, true); err != nil {
		return err
	}
	if err := gitflow.New(st, s.cfg.Repos).Baseline(ctx, s.project.ID); err != nil {
		return err
	}
	b := alm.WorkBranch{Name: alm.BranchName(s.item.Key, s.item.Title), Base: "uat"}
	if err := s.cfg.Repos.StartBranch(ctx, s.repo.ID, b.Name, b.Base); err != nil {
		return err
	}
	if err := st.SetWorkItemBranch(ctx, s.item.ID, b); err != nil {
		return err
	}
	files := map[string][]byte{}
	for p, c := range merged(appFiles, devChanges) {
		files[p] = []byte(c)
	}
	proj, err := metadata.LoadProject(metadata.MemFS(files))
	if err != nil {
		return err
	}
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return err
	}
	var put []*metadata.Component
	for _, k := range []metadata.Key{{Type: "CustomField", Name: "Subscription__c.Churn_Risk__c"}, {Type: "ApexClass", Name: "RenewalService"}} {
		if c := res.Set.Get(k); c != nil {
			put = append(put, c)
		}
	}
	_, err = s.cfg.Repos.CommitComponents(s.as(ctx, alm.RoleDeveloper), s.repo.ID, b.Name, fmt.Sprintf("%s: %s\n\nCommitted from Dev.", s.item.Key, s.item.Title), put, nil)
	return err
}

func (s *seeder) plan(ctx context.Context, st *store.Store) error {
	p, err := st.CreateProject(ctx, alm.NewProject{Key: ProjectKey, Name: "Subscriptions", Description: "Renewals and churn for the customer success team."})
	if err != nil {
		return err
	}
	s.project = p
	type req struct {
		title, goal string
		criteria    []string
		status      alm.ReqStatus
		prio        alm.Priority
	}
	reqs := []req{
		{"Flag subscriptions at risk of churning", "Customer success calls the riskiest accounts first", []string{"A churn risk score is stored on each subscription", "Renewals due soon list the riskiest first"}, alm.ReqInDelivery, alm.PriorityHigh},
		{"Remind owners before a renewal", "Fewer renewals missed", []string{"The owner gets a reminder 30 days ahead"}, alm.ReqAccepted, alm.PriorityMedium},
		{"Show seats used against seats bought", "Upsell conversations start from facts", []string{"The subscription page shows seats used"}, alm.ReqProposed, alm.PriorityMedium},
		{"Self-service plan changes", "", nil, alm.ReqDraft, alm.PriorityLow},
	}
	var keys []string
	for _, r := range reqs {
		rq, err := st.CreateRequirement(s.as(ctx, alm.RoleProductOwner), p.ID, alm.RequirementInput{Title: r.title, BusinessGoal: r.goal, Criteria: r.criteria, Priority: r.prio})
		if err != nil {
			return err
		}
		keys = append(keys, rq.Key)
		for _, to := range []alm.ReqStatus{alm.ReqProposed, alm.ReqAccepted, alm.ReqInDelivery} {
			if statusIndex(r.status) < statusIndex(to) {
				break
			}
			if _, err := st.MoveRequirement(ctx, rq.Key, alm.RoleAdmin, to); err != nil {
				return err
			}
		}
	}
	q, err := st.AddComment(s.as(ctx, alm.RoleDeveloper), keys[0], alm.NewComment{Kind: alm.CommentQuestion, Body: "Where does the risk score come from: a formula or the data team's model?"}, false)
	if err != nil {
		return err
	}
	if _, err := st.AddComment(s.as(ctx, alm.RoleProductOwner), keys[0], alm.NewComment{Kind: alm.CommentNote, Body: "The data team's model writes it nightly; a percent field is enough.", ParentID: &q.ID}, true); err != nil {
		return err
	}
	if _, err := st.AddComment(s.as(ctx, alm.RoleDeveloper), keys[2], alm.NewComment{Kind: alm.CommentQuestion, Body: "Do we count inactive users as seats used?"}, false); err != nil {
		return err
	}
	items := []struct {
		title string
		req   int
		to    alm.WorkStatus
		kind  alm.WorkKind
	}{
		{"Churn risk field and riskiest-first renewals", 0, alm.WorkReadyToPromote, alm.KindStory},
		{"Renewal reminder flow", 1, alm.WorkInProgress, alm.KindStory},
		{"Reminder email template", 1, alm.WorkReady, alm.KindTask},
		{"Seats used on the subscription page", 2, alm.WorkBacklog, alm.KindStory},
		{"Renewal date shows in the wrong time zone", 1, alm.WorkInReview, alm.KindBug},
	}
	for i, it := range items {
		w, err := st.CreateWorkItem(s.as(ctx, alm.RoleProductOwner), p.ID, alm.WorkItemInput{Title: it.title, Kind: it.kind, Requirements: []string{keys[it.req]},
			Approach: alm.ApproachBoth, MaintenanceNote: "Owned by the customer success team's admins."})
		if err != nil {
			return err
		}
		if i == 0 {
			s.item = w
		}
		for _, col := range alm.WorkStatuses[1:] {
			if workIndex(col) > workIndex(it.to) {
				break
			}
			if _, err := st.MoveWorkItem(s.as(ctx, alm.RoleDeveloper), w.Key, col, ""); err != nil {
				return err
			}
		}
	}
	rel, err := st.CreateRelease(s.as(ctx, alm.RoleReleaseManager), p.ID, alm.ReleaseInput{Name: "Spring", Version: "2.4"})
	if err != nil {
		return err
	}
	s.release = rel
	if _, err := st.SetWorkItemRelease(s.as(ctx, alm.RoleReleaseManager), s.item.Key, &rel.ID); err != nil {
		return err
	}
	uat, prod := s.orgs["uat"].ID, s.orgs["prod"].ID
	return st.SavePipeline(ctx, p.ID, []alm.Stage{
		{Name: "UAT", OrgID: &uat, Branch: "uat", ApprovalsRequired: 1, ApproverRoles: []alm.Role{alm.RoleReleaseManager}, NoSelfApproval: true, TestLevel: "NoTestRun", CoverageThreshold: 75},
		{Name: "Production", OrgID: &prod, Branch: "main", ApprovalsRequired: 1, ApproverRoles: []alm.Role{alm.RoleReleaseManager, alm.RoleAdmin}, NoSelfApproval: true,
			ValidationRequired: true, TestLevel: "RunLocalTests", CoverageThreshold: 75, ChangeWindows: "Mon-Fri 06:00-22:00"},
	})
}

func statusIndex(s alm.ReqStatus) int {
	for i, x := range []alm.ReqStatus{alm.ReqDraft, alm.ReqProposed, alm.ReqAccepted, alm.ReqInDelivery} {
		if x == s {
			return i
		}
	}
	return -1
}

func workIndex(s alm.WorkStatus) int {
	for i, x := range alm.WorkStatuses {
		if x == s {
			return i
		}
	}
	return -1
}

// background snapshots the orgs, captures Dev's change onto the work item,
// builds the release, deploys it… as far as UAT waiting for approval, and
// makes one change in Production's Setup for the drift alert.
func (s *seeder) background(ctx context.Context) error {
	st := s.cfg.Store
	if s.cfg.Jobs == nil {
		return errors.New("no job client to take snapshots")
	}
	snap := func(org alm.Org, backup bool) (alm.Snapshot, error) {
		var sn alm.Snapshot
		var err error
		if backup {
			sn, err = st.CreateBackupSnapshot(ctx, org.ID, jobs.SnapshotJob(s.cfg.Jobs))
		} else {
			sn, err = st.CreateSnapshot(ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID, Label: "by Dev Dana", Job: jobs.SnapshotJob(s.cfg.Jobs)})
		}
		if err != nil {
			return sn, err
		}
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if sn, err = st.SnapshotByID(ctx, sn.ID); err != nil {
				return sn, err
			}
			if sn.Status.Finished() {
				if sn.Status != alm.SnapDone {
					return sn, fmt.Errorf("snapshot of %s: %s", org.Name, sn.Error)
				}
				return sn, nil
			}
			time.Sleep(300 * time.Millisecond)
		}
		return sn, fmt.Errorf("snapshot of %s did not finish", org.Name)
	}
	prod, err := snap(s.orgs["prod"], true)
	if err != nil {
		return err
	}
	dev, err := snap(s.orgs["dev"], false)
	if err != nil {
		return err
	}
	if _, err := snap(s.orgs["uat"], true); err != nil {
		return err
	}
	if _, err := capture.New(st).Capture(s.as(ctx, alm.RoleDeveloper), capture.Request{WorkItem: s.item.Key, A: prod.ID, B: dev.ID, Components: []capture.Component{
		{Type: "CustomField", Name: "Subscription__c.Churn_Risk__c"}, {Type: "ApexClass", Name: "RenewalService"}}}); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	b, err := build.New(st).Build(s.as(ctx, alm.RoleReleaseManager), s.release.ID, "", nil)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if _, err := promote.New(st, nil).Open(s.as(ctx, alm.RoleReleaseManager), b.ID, "UAT"); err != nil {
		return fmt.Errorf("promotion: %w", err)
	}
	// Someone edits Production's layout in Setup: the next backup sees it.
	if err := s.sim.Org("prod").ChangeInSetup(orgsim.SetupChange{Type: "Layout", FullName: "Subscription__c-Subscription Layout", User: "Sam Setup"}); err != nil {
		return err
	}
	_, err = snap(s.orgs["prod"], true)
	return err
}

// as is ctx acting as the demo user of role: seeded records are made by
// the person whose job they are (the product owner logs requirements, the
// developer captures, the release manager builds), so approvals and
// sign-offs can be tried as anyone else.
func (s *seeder) as(ctx context.Context, role alm.Role) context.Context {
	for _, r := range roles {
		if r.role == role {
			if u, err := s.cfg.Store.UserByEmail(ctx, r.email); err == nil {
				return alm.WithActor(ctx, alm.Actor{UserID: &u.ID, Label: u.Email})
			}
		}
	}
	return ctx
}
