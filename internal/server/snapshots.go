package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/pmezard/go-difflib/difflib"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerSnapshotRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/orgs/{id}/snapshots", needs(alm.PermSnapshot), s.startSnapshot)
	s.handle(r, http.MethodGet, "/snapshots/{id}", needs(alm.PermView), s.snapshotPage)
	s.handle(r, http.MethodGet, "/snapshots/{id}/progress", needs(alm.PermView), s.snapshotProgress)
	s.handle(r, http.MethodPost, "/snapshots/{id}/cancel", needs(alm.PermSnapshot), s.cancelSnapshot)
	s.handle(r, http.MethodGet, "/compare", needs(alm.PermView), s.comparePage)
	s.handle(r, http.MethodGet, "/compare/diff", needs(alm.PermView), s.componentDiffPage)
	s.handle(r, http.MethodGet, "/comparisons/{id}", needs(alm.PermView), s.comparisonRedirect)
	s.handle(r, http.MethodGet, "/api/v1/comparisons/recent", needs(alm.PermView), s.apiComparisons)
	s.handle(r, http.MethodPost, "/compare/capture", needs(alm.PermEditWorkItems), s.captureFromCompare)
	s.handle(r, http.MethodGet, "/api/v1/work-items/{key}/components", inProject(alm.PermView), s.apiCaptured)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/components", inProject(alm.PermEditWorkItems), s.apiCapture)

	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/snapshots", needs(alm.PermView), s.apiSnapshots)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/snapshots", needs(alm.PermSnapshot), s.apiStartSnapshot)
	s.handle(r, http.MethodGet, "/api/v1/snapshots/{id}", needs(alm.PermView), s.apiSnapshot)
	s.handle(r, http.MethodGet, "/api/v1/comparisons", needs(alm.PermView), s.apiCompare)
	s.handle(r, http.MethodPost, "/api/v1/comparisons", needs(alm.PermView), s.apiStartCompare)
	s.handle(r, http.MethodPost, "/compare/fresh", needs(alm.PermSnapshot), s.compareWithFresh)
	s.handle(r, http.MethodGet, "/api/v1/comparisons/diff", needs(alm.PermView), s.apiComponentDiff)
}

// beginSnapshot records a snapshot of org and queues its job.
func (s *Server) beginSnapshot(r *http.Request, o alm.Org) (alm.Snapshot, error) {
	if o.Status == alm.OrgDisconnected {
		return alm.Snapshot{}, alm.Errorf(alm.CodeConflict, "%s is disconnected; connect it again first.", o.Name)
	}
	return s.queueSnapshot(r, store.NewSnapshot{Source: "org", OrgID: &o.ID, Label: "by " + callerFrom(r.Context()).User.Name})
}

// queueSnapshot records a snapshot and queues the job that takes it.
func (s *Server) queueSnapshot(r *http.Request, n store.NewSnapshot) (alm.Snapshot, error) {
	if s.deps.Jobs == nil {
		return alm.Snapshot{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	n.Job = jobs.SnapshotJob(s.deps.Jobs)
	return s.store.CreateSnapshot(r.Context(), n)
}

func (s *Server) startSnapshot(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	sn, err := s.beginSnapshot(r, o)
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d", o.ID), err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/snapshots/%d", sn.ID), http.StatusSeeOther)
}

func (s *Server) snapshotFromPath(w http.ResponseWriter, r *http.Request, param string) (alm.Snapshot, bool) {
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That snapshot was not found."))
		return alm.Snapshot{}, false
	}
	sn, err := s.store.SnapshotByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return sn, false
	}
	return sn, true
}

func (s *Server) snapshotPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sn, ok := s.snapshotFromPath(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	v := web.SnapshotView{Snapshot: sn, CanSnapshot: callerFrom(ctx).User.Role.Can(alm.PermSnapshot)}
	if cw, err := strconv.ParseInt(r.URL.Query().Get("compare_with"), 10, 64); err == nil {
		v.CompareWith = cw
	}
	if v.CanSnapshot {
		orgsList, err := s.store.ListOrgs(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, o := range orgsList {
			if o.Status != alm.OrgDisconnected {
				v.FreshOrgs = append(v.FreshOrgs, web.Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name})
			}
		}
	}
	if sn.Status == alm.SnapDone {
		m, err := s.store.SnapshotManifest(ctx, sn.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Types = snapshot.CountByType(m)
		others, err := s.comparable(r, sn)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Others = others
	}
	crumbs := []web.Crumb{developCrumb}
	if sn.OrgID != nil {
		crumbs = append(crumbs, web.Crumb{Label: sn.OrgName, Href: fmt.Sprintf("/orgs/%d", *sn.OrgID)})
	}
	v.Page = s.page(w, r, fmt.Sprintf("Snapshot #%d", sn.ID), "develop", append(crumbs, web.Crumb{Label: fmt.Sprintf("Snapshot #%d", sn.ID)})...)
	s.render(w, r, http.StatusOK, web.SnapshotPage(v))
}

// comparable lists finished snapshots of every org, newest first, but sn.
func (s *Server) comparable(r *http.Request, sn alm.Snapshot) ([]alm.Snapshot, error) {
	orgsList, err := s.store.ListOrgs(r.Context())
	if err != nil {
		return nil, err
	}
	var out []alm.Snapshot
	for _, o := range orgsList {
		snaps, err := s.store.ListSnapshots(r.Context(), o.ID, 10)
		if err != nil {
			return nil, err
		}
		for _, x := range snaps {
			if x.ID != sn.ID && x.Status == alm.SnapDone {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func (s *Server) snapshotProgress(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshotFromPath(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	if r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, fmt.Sprintf("/snapshots/%d", sn.ID), http.StatusSeeOther)
		return
	}
	if sn.Status == alm.SnapDone {
		// The finished page has more to show than the progress panel.
		w.Header().Set("HX-Refresh", "true")
	}
	s.render(w, r, http.StatusOK, web.SnapshotProgress(sn, s.store.Now()))
}

func (s *Server) cancelSnapshot(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshotFromPath(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	if err := s.store.EndSnapshot(r.Context(), sn.ID, alm.SnapCanceled, "Canceled by "+callerFrom(r.Context()).User.Name+"."); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/snapshots/%d", sn.ID), "ok", "The snapshot is canceled.")
}

// comparison loads two finished snapshots and compares them.
func (s *Server) comparison(w http.ResponseWriter, r *http.Request) (a, b alm.Snapshot, ma, mb snapshot.Manifest, ok bool) {
	q := r.URL.Query()
	if a, ok = s.snapshotFromPath(w, r, q.Get("a")); !ok {
		return
	}
	if b, ok = s.snapshotFromPath(w, r, q.Get("b")); !ok {
		return
	}
	var err error
	if ma, err = s.store.SnapshotManifest(r.Context(), a.ID); err == nil {
		mb, err = s.store.SnapshotManifest(r.Context(), b.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return a, b, nil, nil, false
	}
	return a, b, ma, mb, true
}

// filterItems applies the comparison page's filters: change (default:
// differences only), type, and a name search.
func filterItems(items []snapshot.Item, q url.Values) []snapshot.Item {
	change, typ, text := q.Get("change"), q.Get("type"), strings.ToLower(strings.TrimSpace(q.Get("q")))
	var out []snapshot.Item
	for _, it := range items {
		switch {
		case change == "" && it.Change == snapshot.Unchanged:
			continue
		case change != "" && change != "all" && string(it.Change) != change:
			continue
		case typ != "" && !strings.EqualFold(it.Type, typ):
			continue
		case text != "" && !strings.Contains(strings.ToLower(it.Name), text):
			continue
		}
		out = append(out, it)
	}
	return out
}

const compareRows = 500

func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) {
	s.renderCompare(w, r, http.StatusOK, emptyForm(), nil)
}

func (s *Server) renderCompare(w http.ResponseWriter, r *http.Request, status int, capture web.Form, checked map[string]bool) {
	a, b, ma, mb, ok := s.comparison(w, r)
	if !ok {
		return
	}
	res := snapshot.Compare(ma, mb)
	if _, err := s.store.KeepComparison(r.Context(), a.ID, b.ID, res.Totals.New, res.Totals.Changed, res.Totals.Deleted, res.Totals.Unchanged); err != nil {
		s.fail(w, r, err)
		return
	}
	q := cleanQuery(r.URL.Query())
	shown := filterItems(res.Items, q)
	hidden := 0
	if len(shown) > compareRows {
		hidden, shown = len(shown)-compareRows, shown[:compareRows]
	}
	p := s.page(w, r, "Comparison", "develop", developCrumb, web.Crumb{Label: "Comparison"})
	repoList, err := s.store.ListRepositories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var repoOpts []web.Option
	for _, rp := range repoList {
		repoOpts = append(repoOpts, web.Option{Value: strconv.FormatInt(rp.ID, 10), Label: rp.Name + " → feature/<work item>"})
	}
	var items []web.Option
	if open, err := s.store.OpenWorkItems(r.Context(), 300); err == nil {
		for _, it := range open {
			items = append(items, web.Option{Value: it.Key, Label: it.Key + " — " + it.Title})
		}
	}
	s.render(w, r, status, web.Compare(web.CompareView{Page: p, A: a, B: b, Result: res, Shown: shown, Hidden: hidden,
		Filter: filterForm(q, "change", "type", "q"), Query: q, Capture: capture, Checked: checked, Repos: repoOpts, WorkItems: items,
		CanCapture: callerFrom(r.Context()).User.Role.Can(alm.PermEditWorkItems)}))
}

// componentContent returns a component's stored content in a snapshot
// manifest, or "" when the snapshot does not have it.
func (s *Server) componentContent(r *http.Request, m snapshot.Manifest, typ, name string) (string, error) {
	for _, e := range m {
		if e.Type == typ && strings.EqualFold(e.Name, name) {
			data, err := s.store.BlobData(r.Context(), e.Hash)
			return string(data), err
		}
	}
	return "", nil
}

// sideBySide pairs the lines of two texts for a two-column diff.
func sideBySide(a, b string) []web.DiffRow {
	al, bl := difflib.SplitLines(a), difflib.SplitLines(b)
	if a == "" {
		al = nil
	}
	if b == "" {
		bl = nil
	}
	trim := func(s string) string { return strings.TrimRight(s, "\n") }
	var rows []web.DiffRow
	for _, op := range difflib.NewMatcher(al, bl).GetOpCodes() {
		switch op.Tag {
		case 'e':
			for i := op.I1; i < op.I2; i++ {
				j := op.J1 + i - op.I1
				rows = append(rows, web.DiffRow{Left: trim(al[i]), Right: trim(bl[j]), LeftN: i + 1, RightN: j + 1, Op: ' '})
			}
		default:
			n := max(op.I2-op.I1, op.J2-op.J1)
			for k := range n {
				row := web.DiffRow{Op: '~'}
				if op.I1+k < op.I2 {
					row.Left, row.LeftN = trim(al[op.I1+k]), op.I1+k+1
				} else {
					row.Op = '+'
				}
				if op.J1+k < op.J2 {
					row.Right, row.RightN = trim(bl[op.J1+k]), op.J1+k+1
				} else {
					row.Op = '-'
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func (s *Server) componentDiffPage(w http.ResponseWriter, r *http.Request) {
	a, b, ma, mb, ok := s.comparison(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	typ, name := q.Get("type"), q.Get("name")
	left, err := s.componentContent(r, ma, typ, name)
	if err == nil {
		var right string
		right, err = s.componentContent(r, mb, typ, name)
		if err == nil {
			p := s.page(w, r, name, "develop", developCrumb, web.Crumb{Label: "Comparison", Href: fmt.Sprintf("/compare?a=%d&b=%d", a.ID, b.ID)}, web.Crumb{Label: name})
			s.render(w, r, http.StatusOK, web.ComponentDiff(web.ComponentDiffView{Page: p, A: a, B: b, Type: typ, Name: name, Rows: sideBySide(left, right),
				Query: url.Values{"a": {q.Get("a")}, "b": {q.Get("b")}}, Sections: xmlSections(left, right)}))
			return
		}
	}
	s.fail(w, r, err)
}

func (s *Server) apiSnapshots(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	list, err := s.store.ListSnapshots(r.Context(), o.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiStartSnapshot(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	sn, err := s.beginSnapshot(r, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, sn)
}

func (s *Server) apiSnapshot(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshotFromPath(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	s.writeJSON(w, http.StatusOK, sn)
}

func (s *Server) apiCompare(w http.ResponseWriter, r *http.Request) {
	a, b, ma, mb, ok := s.comparison(w, r)
	if !ok {
		return
	}
	res := snapshot.Compare(ma, mb)
	kept, err := s.store.KeepComparison(r.Context(), a.ID, b.ID, res.Totals.New, res.Totals.Changed, res.Totals.Deleted, res.Totals.Unchanged)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res.Items = filterItems(res.Items, r.URL.Query())
	s.writeJSON(w, http.StatusOK, map[string]any{"id": kept.ID, "a": a, "b": b, "types": res.Types, "totals": res.Totals, "items": res.Items})
}

// comparisonRedirect sends a kept comparison's address to the page that
// shows it.
func (s *Server) comparisonRedirect(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That comparison was not found."))
		return
	}
	c, err := s.store.ComparisonByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/compare?a=%d&b=%d", c.A, c.B), http.StatusSeeOther)
}

func (s *Server) apiComparisons(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.RecentComparisons(r.Context(), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiComponentDiff(w http.ResponseWriter, r *http.Request) {
	_, _, ma, mb, ok := s.comparison(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	left, err := s.componentContent(r, ma, q.Get("type"), q.Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	right, err := s.componentContent(r, mb, q.Get("type"), q.Get("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(left), B: difflib.SplitLines(right), FromFile: "a", ToFile: "b", Context: 3})
	s.writeJSON(w, http.StatusOK, map[string]any{"type": q.Get("type"), "name": q.Get("name"), "a": left, "b": right, "diff": diff})
}

// captureFromCompare captures the ticked components onto a work item; a
// refusal re-renders the comparison with the ticks and the key kept.
func (s *Server) captureFromCompare(w http.ResponseWriter, r *http.Request) {
	f := formOf(r, "work_item", "deps", "a", "b", "repo")
	checked := map[string]bool{}
	var comps []capture.Component
	for _, v := range r.PostForm["c"] {
		checked[v] = true
		if typ, name, ok := strings.Cut(v, "|"); ok {
			comps = append(comps, capture.Component{Type: typ, Name: name})
		}
	}
	a, aerr := strconv.ParseInt(f.Value("a"), 10, 64)
	b, berr := strconv.ParseInt(f.Value("b"), 10, 64)
	var caps []store.Capture
	var err error = alm.Errorf(alm.CodeInvalid, "The comparison is missing from the form.")
	if aerr == nil && berr == nil {
		key := strings.ToUpper(strings.TrimSpace(f.Value("work_item")))
		err = s.mayEditItem(r, key)
		if err == nil {
			caps, err = s.capture.Capture(r.Context(), capture.Request{WorkItem: key, A: a, B: b, Components: comps, WithDependencies: f.Checked("deps")})
		}
		if err == nil {
			deps := 0
			for _, c := range caps {
				if c.DependencyOf != "" {
					deps++
				}
			}
			msg := fmt.Sprintf("Captured %s onto %s, %d of them as dependencies.", alm.Count(len(caps), "component"), key, deps)
			kind := "ok"
			if repoID, _ := optID(f.Value("repo"), "repo"); repoID != nil {
				if branch, commit, cerr := s.commitCapture(r, *repoID, key, caps); cerr != nil {
					kind, msg = "warn", msg+" Not committed: "+alm.ErrorMessage(cerr)
				} else {
					msg += fmt.Sprintf(" Committed to %s (%s).", branch, commit[:7])
				}
			}
			s.redirect(w, r, "/work-items/"+key+"#components", kind, msg)
			return
		}
	}
	if alm.ErrorCode(err) == alm.CodeInternal {
		s.fail(w, r, err)
		return
	}
	// The comparison page reads a and b from the query.
	r.URL.RawQuery = url.Values{"a": {f.Value("a")}, "b": {f.Value("b")}}.Encode()
	s.renderCompare(w, r, statusOf(alm.ErrorCode(err)), withError(f, err), checked)
}

// mayEditItem checks the caller's project role for the work item.
func (s *Server) mayEditItem(r *http.Request, key string) error {
	if key == "" {
		return alm.Invalid(map[string]string{"work_item": "Give the work item's key."})
	}
	p, member, err := s.store.ProjectAccess(r.Context(), "", "work_item", key, callerFrom(r.Context()).User.ID)
	if err != nil {
		return alm.Invalid(map[string]string{"work_item": "There is no work item " + key + "."})
	}
	if role := alm.ProjectRole(callerFrom(r.Context()).User.Role, member); !role.Can(alm.PermEditWorkItems) {
		return alm.Errorf(alm.CodeForbidden, "Your role in %s (%s) does not allow changing work items.", p.Key, role.Label())
	}
	return nil
}

func (s *Server) apiCaptured(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.CapturedComponents(r.Context(), chi.URLParam(r, "key"), r.URL.Query().Get("history") == "true")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiCapture(w http.ResponseWriter, r *http.Request) {
	var req capture.Request
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	req.WorkItem = chi.URLParam(r, "key")
	if _, err := s.capture.Capture(r.Context(), req); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.store.CapturedComponents(r.Context(), req.WorkItem, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, map[string]any{"items": list})
}

// xmlSections is the XML-aware diff of two stored contents, grouped by
// the top-level element each change sits under: a profile's changes
// come out as fieldPermissions, objectPermissions, classAccesses…
func xmlSections(left, right string) []web.DiffSection {
	lf, rf := snapshot.DecodeFiles([]byte(left)), snapshot.DecodeFiles([]byte(right))
	var out []web.DiffSection
	at := map[string]int{}
	for path, a := range lf {
		b, ok := rf[path]
		if !ok || !strings.HasPrefix(strings.TrimSpace(string(a)), "<") {
			continue
		}
		na, err := metadata.ParseXML(a)
		if err != nil {
			continue
		}
		nb, err := metadata.ParseXML(b)
		if err != nil {
			continue
		}
		for _, c := range metadata.DiffXML(na, nb) {
			sec := c.Path
			if i := strings.IndexAny(sec, "[/"); i >= 0 {
				sec = sec[:i]
			}
			i, ok := at[sec]
			if !ok {
				i = len(out)
				at[sec] = i
				out = append(out, web.DiffSection{Name: sec})
			}
			out[i].Changes = append(out[i].Changes, web.DiffChange{Path: c.Path, Kind: string(c.Kind), Old: clipText(c.Old, 200), New: clipText(c.New, 200)})
		}
	}
	slices.SortFunc(out, func(x, y web.DiffSection) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// apiStartCompare compares the snapshots named in the body and keeps the
// comparison: {"a": 1, "b": 2}.
func (s *Server) apiStartCompare(w http.ResponseWriter, r *http.Request) {
	var b struct {
		A int64 `json:"a"`
		B int64 `json:"b"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	r.URL.RawQuery = url.Values{"a": {strconv.FormatInt(b.A, 10)}, "b": {strconv.FormatInt(b.B, 10)}, "change": {"all"}}.Encode()
	s.apiCompare(w, r)
}

// compareWithFresh takes a fresh snapshot of an org and opens it with the
// comparison to make once it is done.
func (s *Server) compareWithFresh(w http.ResponseWriter, r *http.Request) {
	a, ok := s.snapshotFromPath(w, r, r.PostFormValue("a"))
	if !ok {
		return
	}
	orgID, err := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/snapshots/%d", a.ID), alm.Invalid(map[string]string{"org": "Choose an org."}))
		return
	}
	o, err := s.store.OrgByID(r.Context(), orgID)
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/snapshots/%d", a.ID), err)
		return
	}
	sn, err := s.beginSnapshot(r, o)
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/snapshots/%d", a.ID), err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/snapshots/%d?compare_with=%d", sn.ID, a.ID), http.StatusSeeOther)
}

// commitCapture commits captured components to a repository's feature
// branch for the work item.
func (s *Server) commitCapture(r *http.Request, repoID int64, key string, caps []store.Capture) (string, string, error) {
	svc, err := s.repoService()
	if err != nil {
		return "", "", err
	}
	item, err := s.store.WorkItemByKey(r.Context(), key)
	if err != nil {
		return "", "", err
	}
	c := repos.Commit{Key: item.Key, Title: item.Title}
	// A work item of a git-backed project commits to its own branch.
	if g, err := s.store.ProjectGit(r.Context(), item.ProjectID); err == nil && g.GitBacked() && *g.RepositoryID == repoID {
		if b, err := s.store.WorkItemBranch(r.Context(), item.ID); err == nil && b.Name != "" {
			c.Branch, c.Base = b.Name, b.Base
		}
	}
	for _, cp := range caps {
		if cp.Hash == "" {
			continue // deletions are not written to the branch
		}
		data, err := s.store.BlobData(r.Context(), cp.Hash)
		if err != nil {
			return "", "", err
		}
		c.Contents = append(c.Contents, data)
	}
	if len(c.Contents) == 0 {
		return "", "", alm.Errorf(alm.CodeInvalid, "only deletions were captured, and those are not committed.")
	}
	return svc.CommitCapture(r.Context(), repoID, c)
}
