package orgsim

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// deployOpts are the DeployOptions the org honours.
type deployOpts struct {
	AllowMissingFiles bool     `json:"allowMissingFiles"`
	AutoUpdatePackage bool     `json:"autoUpdatePackage"`
	CheckOnly         bool     `json:"checkOnly"`
	IgnoreWarnings    bool     `json:"ignoreWarnings"`
	PerformRetrieve   bool     `json:"performRetrieve"`
	PurgeOnDelete     bool     `json:"purgeOnDelete"`
	RollbackOnError   bool     `json:"rollbackOnError"`
	RunTests          []string `json:"runTests"`
	SinglePackage     bool     `json:"singlePackage"`
	TestLevel         string   `json:"testLevel"`
}

// deployJob is a deploy in flight; its outcome is decided when it is
// submitted and revealed step by step as time passes.
type deployJob struct {
	id          string
	opts        deployOpts
	created     time.Time
	step        time.Duration
	rest        bool   // submitted through Metadata REST
	validatedID string // for quick deploys: the validation reused
	payloadZip  []byte // kept for validations, which quick deploys reuse
	out         *outcome
	canceledAt  time.Time
	applied     bool
}

// outcome is what a deploy will end as.
type outcome struct {
	status          string // Succeeded, SucceededPartial, Failed
	errorMessage    string
	errorStatusCode string
	failures        []xDeployMessage
	successes       []xDeployMessage
	tests           *xRunTestsResult
	testsRan        bool
	total           int
	// what to change when it completes (nothing for failures and checks)
	put     []*metadata.Component
	deletes []metadata.Key
}

// deployRecord is a finished deploy kept for quick deploys and the
// DeployRequest object.
type deployRecord struct {
	ID         string     `json:"id"`
	CheckOnly  bool       `json:"checkOnly"`
	Status     string     `json:"status"`
	TestsRan   bool       `json:"testsRan"`
	Created    time.Time  `json:"created"`
	Completed  time.Time  `json:"completed"`
	QuickUsed  bool       `json:"quickUsed"`
	Components int        `json:"components"`
	Errors     int        `json:"errors"`
	TestErrors int        `json:"testErrors"`
	Payload    []byte     `json:"payload,omitempty"` // the zip, for quick deploys of validations
	Opts       deployOpts `json:"opts"`
}

// timeline of a job: Pending for one step, components for two, tests
// for two when there are tests.
func (j *deployJob) phases() (pendingEnd, compEnd, end time.Time) {
	pendingEnd = j.created.Add(j.step)
	compEnd = pendingEnd.Add(2 * j.step)
	end = compEnd
	if j.out.testsRan && j.out.tests != nil && j.out.tests.NumTestsRun > 0 {
		end = compEnd.Add(2 * j.step)
	}
	return
}

// finalAt is when the job ends (or ended), canceled or not.
// phasesStart is when the deploy left Pending.
func (j *deployJob) phasesStart() time.Time {
	p, _, _ := j.phases()
	return p
}

func (j *deployJob) finalAt() time.Time {
	pendingEnd, _, end := j.phases()
	if !j.canceledAt.IsZero() {
		if j.canceledAt.Before(pendingEnd) {
			return j.canceledAt
		}
		return j.canceledAt.Add(j.step)
	}
	return end
}

// view renders the job as checkDeployStatus shows it at now.
func (o *Org) deployView(j *deployJob, now time.Time, details bool) *xDeployResult {
	pendingEnd, compEnd, end := j.phases()
	out := j.out
	r := &xDeployResult{
		CheckOnly: j.opts.CheckOnly, CreatedBy: o.st.UserID[:15], CreatedByName: "Admin User", CreatedDate: stampOf(j.created),
		ID: j.id, IgnoreWarnings: j.opts.IgnoreWarnings, RollbackOnError: j.opts.RollbackOnError,
		RunTestsEnabled: out.testsRan, NumberComponentsTotal: out.total, LastModifiedDate: stampOf(j.created),
	}
	if out.tests != nil {
		r.NumberTestsTotal = out.tests.NumTestsRun
	}
	frac := func(from, to time.Time) float64 {
		if !now.After(from) {
			return 0
		}
		if !now.Before(to) || to.Equal(from) {
			return 1
		}
		return float64(now.Sub(from)) / float64(to.Sub(from))
	}
	finished := false
	switch {
	case !j.canceledAt.IsZero():
		if now.Before(j.finalAt()) {
			r.Status = "Canceling"
		} else {
			r.Status, r.Done, finished = "Canceled", true, true
			r.CanceledBy, r.CanceledByName = o.st.UserID[:15], "Admin User"
			r.CompletedDate = stampOf(j.finalAt())
		}
		if !j.canceledAt.Before(pendingEnd) {
			r.StartDate = stampOf(pendingEnd)
		}
	case now.Before(pendingEnd):
		r.Status = "Pending"
	case now.Before(end):
		r.Status = "InProgress"
		r.StartDate = stampOf(pendingEnd)
		r.LastModifiedDate = stampOf(now)
		deployed := int(float64(len(out.successes)) * frac(pendingEnd, compEnd))
		errs := int(float64(len(out.failures)) * frac(pendingEnd, compEnd))
		r.NumberComponentsDeployed, r.NumberComponentErrors = deployed, errs
		if now.Before(compEnd) {
			r.StateDetail = "Processing Type: " + stateDetailType(out)
		} else if out.tests != nil {
			r.StateDetail = "Running Apex tests"
			r.NumberComponentsDeployed, r.NumberComponentErrors = countSuccesses(out), len(realFailures(out))
			r.NumberTestsCompleted = int(float64(out.tests.NumTestsRun) * frac(compEnd, end))
		}
	default:
		finished = true
		r.Status, r.Done = out.status, true
		r.Success = out.status == "Succeeded" || out.status == "SucceededPartial"
		r.StartDate, r.CompletedDate, r.LastModifiedDate = stampOf(pendingEnd), stampOf(end), stampOf(end)
		r.ErrorMessage, r.ErrorStatusCode = out.errorMessage, out.errorStatusCode
		r.NumberComponentsDeployed, r.NumberComponentErrors = countSuccesses(out), len(realFailures(out))
		if out.tests != nil {
			r.NumberTestsCompleted = out.tests.NumTestsRun - out.tests.NumFailures
			r.NumberTestErrors = out.tests.NumFailures
		}
	}
	if details {
		r.Details = &xDeployDetails{RunTestResult: &xRunTestsResult{}}
		if finished && r.Status != "Canceled" {
			r.Details.ComponentFailures = out.failures
			r.Details.ComponentSuccesses = out.successes
			if out.tests != nil {
				r.Details.RunTestResult = out.tests
			}
		}
	}
	return r
}

func countSuccesses(o *outcome) int {
	n := 0
	for _, s := range o.successes {
		if s.FileName != "package.xml" {
			n++
		}
	}
	return n
}

// realFailures are the component failures that count as errors (a
// missing package.xml is reported but not counted, as Salesforce does).
func realFailures(o *outcome) []xDeployMessage {
	var out []xDeployMessage
	for _, f := range o.failures {
		if f.FileName != "package.xml" || f.ComponentType != "" {
			out = append(out, f)
		}
	}
	return out
}

func stateDetailType(o *outcome) string {
	for _, c := range o.put {
		return c.Type.Name
	}
	return "Package"
}

// advanceLocked completes the jobs whose time has come: deploys apply
// their changes, test runs record coverage. o.mu is held.
func (o *Org) advanceLocked() {
	now := time.Now()
	for _, j := range o.deploys {
		if j.applied || now.Before(j.finalAt()) {
			continue
		}
		j.applied = true
		o.finishDeployLocked(j)
	}
	for _, t := range o.testRuns {
		if !t.recorded && !now.Before(t.end()) {
			t.recorded = true
			o.recordTestRunLocked(t)
		}
	}
}

func (o *Org) finishDeployLocked(j *deployJob) {
	rec := &deployRecord{ID: j.id, CheckOnly: j.opts.CheckOnly, Status: j.out.status, TestsRan: j.out.testsRan,
		Created: j.created, Completed: j.finalAt(), Components: countSuccesses(j.out), Errors: len(realFailures(j.out)), Opts: j.opts}
	if j.out.tests != nil {
		rec.TestErrors = j.out.tests.NumFailures
	}
	if !j.canceledAt.IsZero() {
		rec.Status = "Canceled"
	}
	if rec.Status == "Canceled" || j.opts.CheckOnly || (j.out.status != "Succeeded" && j.out.status != "SucceededPartial") {
		o.st.Deploys = append(o.st.Deploys, rec)
		if j.opts.CheckOnly && rec.Status == "Succeeded" {
			rec.Payload = j.payloadZip
		}
		o.trimDeploysLocked()
		o.saveLocked()
		return
	}
	now := j.finalAt()
	for _, k := range j.out.deletes {
		o.deleteComponentLocked(k)
	}
	for _, c := range j.out.put {
		o.putComponentLocked(c, now, "Admin User")
	}
	o.st.Deploys = append(o.st.Deploys, rec)
	if j.validatedID != "" {
		for _, d := range o.st.Deploys {
			if sameID(d.ID, j.validatedID) {
				d.QuickUsed, d.Payload = true, nil
			}
		}
	}
	o.trimDeploysLocked()
	o.saveMetadataLocked()
}

func (o *Org) trimDeploysLocked() {
	if len(o.st.Deploys) > 200 {
		o.st.Deploys = o.st.Deploys[len(o.st.Deploys)-200:]
	}
}

// putComponentLocked adds or replaces a component in the org.
func (o *Org) putComponentLocked(c *metadata.Component, at time.Time, by string) {
	k := c.Key()
	m := o.st.Meta[metaKey(k)]
	if m == nil {
		m = &componentMeta{ID: o.nextID(idPrefix(c.Type.Name)), Created: at.UTC()}
		o.st.Meta[metaKey(k)] = m
	}
	m.Modified, m.ModifiedBy = at.UTC(), by
	o.set.Add(c)
}

// deleteComponentLocked removes a component and, for objects, what is
// inside them.
func (o *Org) deleteComponentLocked(k metadata.Key) {
	o.set.Remove(k)
	delete(o.st.Meta, metaKey(k))
	t := metadata.DefaultRegistry.Type(k.Type)
	if t == nil || len(t.Children()) == 0 {
		return
	}
	for _, c := range o.set.Components() {
		if c.Type.Parent == k.Type && c.Parent == k.Name {
			o.set.Remove(c.Key())
			delete(o.st.Meta, metaKey(c.Key()))
		}
	}
	if k.Type == "CustomObject" {
		delete(o.st.Records, k.Name)
	}
}

func idPrefix(typ string) string {
	switch typ {
	case "ApexClass":
		return "01p"
	case "ApexTrigger":
		return "01q"
	case "ApexPage":
		return "066"
	case "CustomObject":
		return "01I"
	case "CustomField":
		return "00N"
	case "Layout":
		return "00h"
	case "Profile":
		return "00e"
	case "PermissionSet":
		return "0PS"
	case "Flow":
		return "301"
	case "LightningComponentBundle":
		return "0Rb"
	case "CustomTab":
		return "01r"
	case "StaticResource":
		return "081"
	}
	return "0Af"
}

// deployMessage builds a DeployMessage.
func msg(c *metadata.Component, file string, at time.Time) xDeployMessage {
	m := xDeployMessage{FileName: file, CreatedDate: stampOf(at)}
	if c != nil {
		m.ComponentType, m.FullName = c.ManifestKey().Type, c.Name
	}
	return m
}

// evaluate decides a deploy's outcome from its zip, against the org as
// it is now. o.mu is held.
func (o *Org) evaluate(zipData []byte, opts deployOpts, now time.Time, quick bool) *outcome {
	out := &outcome{}
	fail := func(status, code, message string) *outcome {
		out.status, out.errorStatusCode, out.errorMessage = status, code, message
		return out
	}
	files, err := metadata.ReadZip(zipData, metadata.DefaultZipLimits)
	if err != nil {
		return fail("Failed", "UNKNOWN_EXCEPTION", "The zip file could not be read: "+err.Error())
	}
	root := ""
	if !opts.SinglePackage {
		root = packageFolder(files)
	}
	if _, ok := files[root+"package.xml"]; !ok {
		out.status = "Failed"
		m := xDeployMessage{FileName: "package.xml", FullName: "package.xml", Problem: "No package.xml found", ProblemType: "Error", CreatedDate: stampOf(now)}
		out.failures = append(out.failures, m)
		return out
	}
	payload := map[string][]byte{}
	for p, b := range files {
		if rel, ok := strings.CutPrefix(p, root); ok {
			payload[rel] = b
		}
	}
	if o.st.Kind == Production && opts.PurgeOnDelete {
		return fail("Failed", "INVALID_OPERATION", "purgeOnDelete option can only be used on a non-active org")
	}
	if o.st.Kind == Production && !opts.RollbackOnError {
		return fail("Failed", "INVALID_OPERATION", "rollbackOnError must be true for deployments to production organizations")
	}
	manifest, err := metadata.ParseManifest(payload["package.xml"])
	if err != nil {
		out.status = "Failed"
		m := xDeployMessage{FileName: "package.xml", FullName: "package.xml", Problem: "Error parsing file: " + err.Error(), ProblemType: "Error", CreatedDate: stampOf(now)}
		out.failures = append(out.failures, m)
		return out
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(payload), metadata.ReadOptions{KeepContent: true})
	var problems []xDeployMessage
	if err != nil {
		file := ""
		var fe *metadata.FileError
		if errors.As(err, &fe) {
			file = fe.Path
		}
		out.status = "Failed"
		out.failures = append(out.failures, xDeployMessage{FileName: file, FullName: strings.TrimSuffix(path.Base(file), path.Ext(file)),
			Problem: "Error parsing file: " + err.Error(), ProblemType: "Error", CreatedDate: stampOf(now)})
		return out
	}
	for _, p := range res.Skipped {
		if p == "package.xml" || strings.HasPrefix(p, "destructiveChanges") {
			continue
		}
		problems = append(problems, xDeployMessage{FileName: p, FullName: p, Problem: "Unknown type or file name: " + p, ProblemType: "Error", CreatedDate: stampOf(now)})
	}

	// What the manifest names, and what of the zip it covers.
	named := func(c *metadata.Component) bool {
		k := c.ManifestKey()
		if manifest.Has(k.Type, k.Name) || manifest.Has(k.Type, "*") {
			return true
		}
		if c.Type.IsChild() {
			return manifest.Has(c.Type.Parent, c.Parent)
		}
		return false
	}
	deploySet := metadata.NewSet()
	for _, c := range res.Set.Components() {
		switch {
		case named(c):
			deploySet.Add(c)
		case c.Type.IsChild() || hasNamedChild(res.Set, c, named):
			// a synthesized parent, or an unnamed child: not deployed
		case opts.AutoUpdatePackage:
			deploySet.Add(c)
		default:
			problems = append(problems, withProblem(msg(c, c.Files[0], now),
				fmt.Sprintf("An object '%s' of type %s was found in the zip but is not named in package.xml", c.Name, c.ManifestKey().Type)))
		}
	}
	if !opts.AllowMissingFiles {
		for _, k := range manifest.Keys() {
			if k.Name == "*" {
				continue
			}
			if !hasManifestKey(deploySet, k) {
				problems = append(problems, xDeployMessage{FileName: "package.xml", FullName: k.Name, ComponentType: k.Type, CreatedDate: stampOf(now),
					Problem: fmt.Sprintf("An object '%s' of type %s was named in package.xml, but was not found in zipped directory", k.Name, k.Type), ProblemType: "Error"})
			}
		}
	}

	// Deletions.
	var deletes []metadata.Key
	for _, dfile := range []string{"destructiveChangesPre.xml", "destructiveChanges.xml", "destructiveChangesPost.xml"} {
		data, ok := payload[dfile]
		if !ok {
			continue
		}
		dm, err := metadata.ParseManifest(data)
		if err != nil {
			problems = append(problems, xDeployMessage{FileName: dfile, FullName: dfile, Problem: "Error parsing file: " + err.Error(), ProblemType: "Error", CreatedDate: stampOf(now)})
			continue
		}
		for _, k := range dm.Keys() {
			t := metadata.DefaultRegistry.Type(k.Type)
			m := xDeployMessage{FileName: dfile, FullName: k.Name, ComponentType: k.Type, CreatedDate: stampOf(now)}
			existing := o.componentByManifestKey(k)
			switch {
			case t == nil || k.Name == "*":
				m.Problem, m.ProblemType = fmt.Sprintf("Unknown type name '%s' specified in %s", k.Type, dfile), "Error"
				problems = append(problems, m)
			case !t.Deletable:
				m.Problem, m.ProblemType = fmt.Sprintf("Entity type: '%s' is not supported for deletion", k.Type), "Error"
				problems = append(problems, m)
			case existing == nil:
				m.Problem, m.ProblemType = fmt.Sprintf("No %s named: %s found", k.Type, k.Name), "Warning"
				if opts.IgnoreWarnings {
					m.Success = true
					out.successes = append(out.successes, m)
				} else {
					problems = append(problems, m)
				}
			default:
				m.Deleted, m.Success = true, true
				if meta := o.st.Meta[metaKey(existing.Key())]; meta != nil {
					m.ID = meta.ID
				}
				out.successes = append(out.successes, m)
				deletes = append(deletes, existing.Key())
			}
		}
	}

	// What the org would hold afterwards, for references, tests and coverage.
	after := metadata.NewSet()
	for _, c := range o.set.Components() {
		after.Add(c)
	}
	for _, k := range deletes {
		after.Remove(k)
	}
	for _, c := range deploySet.Components() {
		after.Add(c)
	}

	// Apex that does not compile, and references to what does not exist.
	failed := map[metadata.Key]bool{}
	var universe *apexUniverse
	for _, c := range deploySet.Components() {
		if c.Type.Name != "ApexClass" && c.Type.Name != "ApexTrigger" {
			continue
		}
		src := apexSource(c)
		line, col, problem, bad := checkApex(src, c.Type.Name == "ApexTrigger")
		if !bad {
			if universe == nil {
				universe = o.universeOf(after)
			}
			line, col, problem, bad = checkApexSemantics(src, c.Name, universe)
		}
		if bad {
			m := withProblem(msg(c, contentFile(c), now), problem)
			m.LineNumber, m.ColumnNumber = intp(line), intp(col)
			problems = append(problems, m)
			failed[c.Key()] = true
		}
	}
	refs := metadata.References(deploySet)
	for _, r := range metadata.Missing(refs, deploySet, after) {
		c := deploySet.Get(r.From)
		if c == nil || failed[r.From] {
			continue
		}
		m := withProblem(msg(c, contentFile(c), now), missingProblem(c, r))
		if c.Type.Name == "ApexClass" || c.Type.Name == "ApexTrigger" {
			line, col := locate(apexSource(c), refName(r.To))
			m.LineNumber, m.ColumnNumber = intp(line), intp(col)
		}
		problems = append(problems, m)
		failed[r.From] = true
	}
	for _, p := range problems {
		if p.FullName != "" && p.ComponentType != "" {
			failed[metadata.Key{Type: p.ComponentType, Name: p.FullName}] = true
		}
	}

	// Successes for the rest.
	var put []*metadata.Component
	for _, c := range deploySet.Components() {
		if failed[c.Key()] || failed[c.ManifestKey()] {
			continue
		}
		m := msg(c, contentFile(c), now)
		m.Success = true
		if meta := o.st.Meta[metaKey(c.Key())]; meta != nil {
			m.ID = meta.ID
			if existing := o.set.Get(c.Key()); existing != nil && existing.Hash != c.Hash {
				m.Changed = true
			}
		} else {
			m.Created = true
		}
		out.successes = append(out.successes, m)
		put = append(put, c)
	}
	out.successes = append(out.successes, xDeployMessage{FileName: "package.xml", FullName: "package.xml", Changed: true, Success: true, CreatedDate: stampOf(now)})
	out.failures = problems
	out.total = deploySet.Len() + len(deletes)

	// Tests.
	level := opts.TestLevel
	hasApex := false
	for _, c := range deploySet.Components() {
		if c.Type.Name == "ApexClass" || c.Type.Name == "ApexTrigger" {
			hasApex = true
		}
	}
	if level == "" {
		level = "NoTestRun"
		if o.st.Kind == Production && hasApex {
			level = "RunLocalTests"
		}
	}
	// A test level the org refuses fails the deploy before any component
	// is processed: nothing is reported deployed.
	refuse := func(message string) *outcome {
		out.successes, out.failures, out.total = nil, nil, 0
		return fail("Failed", "INVALID_OPERATION", message)
	}
	switch level {
	case "NoTestRun":
		if o.st.Kind == Production && !quick && (hasApex || opts.TestLevel == "NoTestRun") {
			return refuse("testLevel of NoTestRun cannot be used in production organizations")
		}
	case "RunSpecifiedTests":
		if len(opts.RunTests) == 0 {
			return refuse("runTests must not be empty when a testLevel of RunSpecifiedTests is used")
		}
	case "RunLocalTests", "RunAllTestsInOrg", "RunRelevantTests":
	default:
		return refuse(fmt.Sprintf("testLevel %s is not valid", level))
	}
	coverageFails := false
	if level != "NoTestRun" {
		var classes []string
		if level == "RunSpecifiedTests" {
			classes = opts.RunTests
		} else {
			classes = testClassNames(after)
		}
		run, missing := runTests(after, classes, o.idFor)
		for _, name := range missing {
			out.failures = append(out.failures, xDeployMessage{FileName: "package.xml", FullName: name, ComponentType: "ApexClass", CreatedDate: stampOf(now),
				Problem: fmt.Sprintf("Test class %s is not found or is not a test class", name), ProblemType: "Error"})
		}
		out.testsRan = true
		out.tests = run.deployResult(after, o.idFor)
		if o.st.Kind == Production {
			warnings := coverageWarnings(after, run, level, deploySet, o.idFor)
			out.tests.CodeCoverageWarnings = warnings
			coverageFails = len(warnings) > 0
		}
	}

	switch {
	case len(realFailures(out)) > 0 && opts.RollbackOnError,
		len(out.failures) > 0 && opts.RollbackOnError,
		out.tests != nil && out.tests.NumFailures > 0,
		coverageFails:
		out.status = "Failed"
		return out
	case len(out.failures) > 0:
		out.status = "SucceededPartial"
	default:
		out.status = "Succeeded"
	}
	if !opts.CheckOnly {
		out.put, out.deletes = put, deletes
	}
	return out
}

func withProblem(m xDeployMessage, p string) xDeployMessage {
	m.Problem, m.ProblemType, m.Success = p, "Error", false
	return m
}

func hasNamedChild(s *metadata.Set, parent *metadata.Component, named func(*metadata.Component) bool) bool {
	for _, c := range s.Components() {
		if c.Type.IsChild() && c.Type.Parent == parent.Type.Name && c.Parent == parent.Name && named(c) {
			return true
		}
	}
	return false
}

func hasManifestKey(s *metadata.Set, k metadata.Key) bool {
	for _, c := range s.Components() {
		if c.ManifestKey() == k {
			return true
		}
		// A container named beside its children (CustomLabels:
		// CustomLabels, as sfdx-git-delta and the CLI list it) is there
		// when its file brought children.
		if c.Type.IsChild() && c.Type.Parent == k.Type && c.Parent == k.Name {
			return true
		}
	}
	return false
}

func (o *Org) componentByManifestKey(k metadata.Key) *metadata.Component {
	if c := o.set.Get(k); c != nil {
		return c
	}
	for _, c := range o.set.Components() {
		if c.ManifestKey() == k {
			return c
		}
	}
	return nil
}

// packageFolder is the top folder holding package.xml when the zip is
// not a single package ("unpackaged/" as clients write it).
func packageFolder(files map[string][]byte) string {
	var roots []string
	for p := range files {
		if dir, base := path.Split(p); base == "package.xml" && strings.Count(dir, "/") == 1 {
			roots = append(roots, dir)
		}
	}
	sort.Strings(roots)
	if len(roots) > 0 {
		return roots[0]
	}
	return ""
}

// contentFile is the file a DeployMessage names for a component.
func contentFile(c *metadata.Component) string {
	if len(c.Files) == 0 {
		return ""
	}
	for _, f := range c.Files {
		if !strings.HasSuffix(f, "-meta.xml") {
			return f
		}
	}
	return c.Files[0]
}

func apexSource(c *metadata.Component) string {
	for _, p := range c.Parts {
		return string(p.Data)
	}
	return ""
}

func refName(k metadata.Key) string {
	if i := strings.LastIndexByte(k.Name, '.'); i >= 0 {
		return k.Name[i+1:]
	}
	return k.Name
}

// missingProblem words a missing reference as Salesforce does.
func missingProblem(c *metadata.Component, r metadata.Reference) string {
	if c.Type.Name == "ApexClass" || c.Type.Name == "ApexTrigger" {
		switch r.To.Type {
		case "CustomObject":
			return "Invalid type: " + r.To.Name
		case "CustomField":
			obj, field, _ := strings.Cut(r.To.Name, ".")
			return fmt.Sprintf("Field does not exist: %s on %s", field, obj)
		default:
			return "Variable does not exist: " + refName(r.To)
		}
	}
	where := r.Where
	if i := strings.LastIndexByte(where, '/'); i >= 0 {
		where = where[i+1:]
	}
	return fmt.Sprintf("In field: %s - no %s named %s found", where, r.To.Type, r.To.Name)
}

// idFor returns the org id of a component (a stable made-up one for
// components not deployed yet). o.mu is held.
func (o *Org) idFor(k metadata.Key) string {
	if m := o.st.Meta[metaKey(k)]; m != nil && m.ID != "" {
		return m.ID
	}
	h := 0
	for _, c := range k.Type + "." + k.Name {
		h = (h*131 + int(c)) % 50_000_000
	}
	return newID(idPrefix(k.Type), 90_000_000+h)
}
