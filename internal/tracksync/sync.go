// Package tracksync keeps Trellis's requirements and work items and their
// issues in a work tracker in step: connect and test, import and link,
// a two-way field merge (the later edit wins per field, and the timeline
// says so), comments both ways without echo, delivery events posted back,
// and faults recorded on the link they concern.
package tracksync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/tracker"
)

// SealContext binds sealed tracker credentials to their use.
const SealContext = "tracker"

// Service syncs links.
type Service struct {
	Store   *store.Store
	Keyring *secret.Keyring
	HTTP    *http.Client // requests to trackers go through the outbound policy
	BaseURL string       // where people reach Trellis, for links back
}

// Client opens the connection's token and makes its client.
func (s *Service) Client(c alm.TrackerConnection) (tracker.Client, error) {
	tok, err := s.Keyring.Open(c.SealedToken, SealContext)
	if err != nil {
		return nil, fmt.Errorf("open tracker token: %w", err)
	}
	return tracker.New(tracker.Config{Kind: tracker.Kind(c.Kind), BaseURL: c.BaseURL, Scope: c.Scope, User: c.Username, Token: string(tok), HTTP: s.HTTP})
}

// WebhookSecret opens the connection's webhook secret.
func (s *Service) WebhookSecret(c alm.TrackerConnection) (string, error) {
	b, err := s.Keyring.Open(c.SealedSecret, SealContext)
	return string(b), err
}

// Connect tests the connection and saves it. An empty token keeps the
// stored one. The webhook secret is made on first connect (or when
// newSecret); it is returned only then, for the person to put in the
// tracker's webhook settings.
func (s *Service) Connect(ctx context.Context, c alm.TrackerConnection, token string, newSecret bool) (alm.TrackerConnection, string, error) {
	if !tracker.Kind(c.Kind).Valid() {
		return c, "", alm.Invalid(map[string]string{"kind": "Pick a tracker."})
	}
	if strings.TrimSpace(c.BaseURL) == "" {
		return c, "", alm.Invalid(map[string]string{"base_url": "Enter the tracker's address."})
	}
	if strings.TrimSpace(c.Scope) == "" {
		return c, "", alm.Invalid(map[string]string{"scope": "Enter " + tracker.Kind(c.Kind).ScopeHint() + "."})
	}
	if c.ImportAs != "requirement" {
		c.ImportAs = "work_item"
	}
	old, err := s.Store.TrackerConnection(ctx, c.ProjectID)
	hasOld := err == nil
	if err != nil && alm.ErrorCode(err) != alm.CodeNotFound {
		return c, "", err
	}
	if token == "" && hasOld {
		t, err := s.Keyring.Open(old.SealedToken, SealContext)
		if err != nil {
			return c, "", err
		}
		token = string(t)
	}
	if token == "" {
		return c, "", alm.Invalid(map[string]string{"token": "Enter the tracker's token."})
	}
	cl, err := tracker.New(tracker.Config{Kind: tracker.Kind(c.Kind), BaseURL: c.BaseURL, Scope: c.Scope, User: c.Username, Token: token, HTTP: s.HTTP})
	if err == nil {
		err = cl.Test(ctx)
	}
	if err != nil {
		field := map[tracker.Code]string{tracker.CodeURL: "base_url", tracker.CodeAuth: "token", tracker.CodeProject: "scope", tracker.CodePermission: "token"}[tracker.CodeOf(err)]
		if field == "" {
			field = "base_url"
		}
		return c, "", alm.Invalid(map[string]string{field: err.Error()})
	}
	sealedTok, err := s.Keyring.Seal([]byte(token), SealContext)
	if err != nil {
		return c, "", err
	}
	plainSecret, sealedSecret := "", ""
	if !hasOld || newSecret {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		plainSecret = hex.EncodeToString(b)
		if sealedSecret, err = s.Keyring.Seal([]byte(plainSecret), SealContext); err != nil {
			return c, "", err
		}
	}
	saved, err := s.Store.SaveTrackerConnection(ctx, c, sealedTok, sealedSecret)
	return saved, plainSecret, err
}

// Import makes a Trellis record for each issue (as the connection says:
// requirements or work items) and links it. Issues already linked are
// skipped. It returns the records' keys.
func (s *Service) Import(ctx context.Context, c alm.TrackerConnection, keys []string) ([]string, error) {
	cl, err := s.Client(c)
	if err != nil {
		return nil, err
	}
	product := tracker.Kind(c.Kind).Label()
	var out []string
	for _, key := range keys {
		if _, err := s.Store.TrackerLinkByRemote(ctx, c.ID, key); err == nil {
			continue
		}
		is, err := cl.Get(ctx, key)
		if err != nil {
			return out, err
		}
		var recKey string
		var id int64
		if c.ImportAs == "requirement" {
			r, err := s.Store.CreateRequirement(ctx, c.ProjectID, alm.RequirementInput{Title: is.Title, Description: is.Description, Labels: is.Labels})
			if err != nil {
				return out, err
			}
			recKey, id = r.Key, r.ID
		} else {
			w, err := s.Store.CreateWorkItem(ctx, c.ProjectID, alm.WorkItemInput{Title: is.Title, Description: is.Description, Labels: is.Labels})
			if err != nil {
				return out, err
			}
			recKey, id = w.Key, w.ID
		}
		l, err := s.Store.CreateTrackerLink(ctx, c.ID, c.ImportAs, id, is.Key, is.URL, product+" "+alm.TrackerDisplayKey(c.Kind, is.Key))
		if err != nil {
			return out, err
		}
		// What was imported is what both sides agree on; the first sync
		// brings the status (through the mapping), assignee and comments.
		local, err := s.Store.TrackedFields(ctx, c.ImportAs, id)
		if err != nil {
			return out, err
		}
		synced := map[string]string{"title": local.Title, "description": local.Description, "labels": labelsKey(local.Labels)}
		if err := s.Store.SaveTrackerLinkState(ctx, l.ID, is.URL, "", synced, "ok", ""); err != nil {
			return out, err
		}
		out = append(out, recKey)
	}
	return out, nil
}

// LinkExisting links a Trellis record to an issue by its key. Where both
// sides have a value the tracker's wins on the first sync (it is where
// the team plans); an empty side takes the other's.
func (s *Service) LinkExisting(ctx context.Context, c alm.TrackerConnection, entityType string, id int64, key string) (alm.TrackerLink, error) {
	key = strings.TrimPrefix(strings.TrimSpace(key), "#")
	if key == "" {
		return alm.TrackerLink{}, alm.Invalid(map[string]string{"key": "Enter the issue's key."})
	}
	cl, err := s.Client(c)
	if err != nil {
		return alm.TrackerLink{}, err
	}
	is, err := cl.Get(ctx, key)
	if err != nil {
		return alm.TrackerLink{}, alm.Invalid(map[string]string{"key": err.Error()})
	}
	l, err := s.Store.CreateTrackerLink(ctx, c.ID, entityType, id, is.Key, is.URL, tracker.Kind(c.Kind).Label()+" "+alm.TrackerDisplayKey(c.Kind, is.Key))
	if err != nil {
		return l, err
	}
	local, err := s.Store.TrackedFields(ctx, entityType, id)
	if err != nil {
		return l, err
	}
	synced := map[string]string{}
	pick := func(name, remote, loc string) {
		if remote == "" && loc != "" {
			synced[name] = remote // Trellis's value goes to the tracker
		} else {
			synced[name] = loc // the tracker's value comes to Trellis
		}
	}
	pick("title", is.Title, local.Title)
	pick("description", is.Description, local.Description)
	pick("labels", labelsKey(is.Labels), labelsKey(local.Labels))
	if err := s.Store.SaveTrackerLinkState(ctx, l.ID, is.URL, "", synced, "ok", ""); err != nil {
		return l, err
	}
	return l, nil
}

func labelsKey(ls []string) string {
	c := slices.Clone(ls)
	sort.Strings(c)
	return strings.Join(c, "\x1f")
}

func labelsFrom(k string) []string {
	if k == "" {
		return []string{}
	}
	return strings.Split(k, "\x1f")
}

// Sync brings one link's record and issue in step, both ways. A fault a
// person must fix is recorded on the link (and on the connection for a
// refused token) and not retried; a tracker that is down or rate limiting
// returns its error for the job to retry.
func (s *Service) Sync(ctx context.Context, linkID int64) error {
	l, err := s.Store.TrackerLinkByID(ctx, linkID)
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeNotFound {
			return nil // unlinked since
		}
		return err
	}
	c, err := s.Store.TrackerConnectionByID(ctx, l.ConnectionID)
	if err != nil {
		return err
	}
	cl, err := s.Client(c)
	if err != nil {
		return s.fault(ctx, l, c, err)
	}
	kind := tracker.Kind(c.Kind)
	product := kind.Label()
	is, err := cl.Get(ctx, l.RemoteKey)
	if err != nil {
		return s.fault(ctx, l, c, err)
	}
	local, err := s.Store.TrackedFields(ctx, l.EntityType, l.EntityID)
	if err != nil {
		return err
	}
	maps, err := s.Store.StatusMappings(ctx, c.ID)
	if err != nil {
		return err
	}
	synced := l.Synced
	next := map[string]string{}
	for k, v := range synced {
		next[k] = v
	}
	remoteLater := is.Updated.After(local.UpdatedAt)
	var ch store.TrackerChange
	var patch tracker.Patch
	var trellisWon []string
	merge := func(name, remote, loc string, toLocal, toRemote func(string)) {
		sv, known := synced[name]
		rc := !known || remote != sv
		lc := known && loc != sv
		final := loc
		switch {
		case remote == loc:
			final = loc
		case rc && !lc:
			toLocal(remote)
			final = remote
		case lc && !rc:
			toRemote(loc)
		case remoteLater:
			toLocal(remote)
			final = remote
			ch.Notes = append(ch.Notes, fmt.Sprintf("%s edited on both sides; %s's later edit wins", name, product))
		default:
			toRemote(loc)
			trellisWon = append(trellisWon, name)
		}
		next[name] = final
	}
	merge("title", is.Title, local.Title, func(v string) { ch.Title = &v }, func(v string) { patch.Title = &v })
	merge("description", is.Description, local.Description, func(v string) { ch.Description = &v }, func(v string) { patch.Description = &v })
	merge("labels", labelsKey(is.Labels), labelsKey(local.Labels), func(v string) { ls := labelsFrom(v); ch.Labels = &ls },
		func(v string) { ls := labelsFrom(v); patch.Labels = &ls })
	if is.Assignee != "" || is.AssigneeID == "" {
		// Trackers that hide emails (Jira Cloud's privacy setting) leave the
		// assignee to each side.
		merge("assignee", strings.ToLower(is.Assignee), strings.ToLower(local.Assignee), func(v string) { ch.Assignee = &v }, func(v string) { patch.Assignee = &v })
	}

	// Status, through the mapping.
	state, msg := "ok", ""
	entity := l.EntityType
	toLocal := map[string]string{}
	var toRemote []alm.StatusMapping
	for _, m := range maps {
		if m.Entity == entity {
			toLocal[strings.ToLower(m.Remote)] = m.Local
			toRemote = append(toRemote, m)
		}
	}
	transition := ""
	rc := is.Status != synced["status"]
	lc := synced["local_status"] != "" && local.Status != synced["local_status"]
	next["status"] = is.Status
	next["local_status"] = local.Status
	mapped, remoteMapped := toLocal[strings.ToLower(is.Status)]
	unmapped := fmt.Sprintf("%s status %q has no Trellis status: map it in the project's tracker settings. The status was left as it is.", product, is.Status)
	switch {
	case rc && (!lc || remoteLater):
		if !remoteMapped {
			// The change stays pending (and the link says so) until the
			// status is mapped; mapping it later applies it.
			state, msg = "warning", unmapped
			next["status"], next["local_status"] = synced["status"], synced["local_status"]
		} else if mapped != local.Status {
			v := mapped
			ch.Status = &v
			next["local_status"] = mapped
		}
	case lc:
		if remoteMapped && mapped == local.Status {
			break // the tracker's status already means this
		}
		for _, m := range toRemote {
			if m.Local == local.Status {
				transition = m.Remote
				break
			}
		}
		if transition == "" {
			state, msg = "warning", fmt.Sprintf("Trellis status %q has no %s status mapped to it: map it in the project's tracker settings. %s's status was left as it is.", local.Status, product, product)
			next["status"], next["local_status"] = synced["status"], synced["local_status"]
		}
	case !remoteMapped && is.Status != "":
		state, msg = "warning", unmapped
	}

	if !patch.Empty() {
		if err := cl.Update(ctx, l.RemoteKey, patch); err != nil {
			return s.fault(ctx, l, c, err)
		}
	}
	if transition != "" {
		if err := cl.Transition(ctx, l.RemoteKey, transition); err != nil {
			if tracker.CodeOf(err) == tracker.CodeInvalid {
				state, msg = "warning", err.Error()
			} else {
				return s.fault(ctx, l, c, err)
			}
		} else {
			next["status"] = transition
			is.Status = transition
		}
	}
	// The timeline names the tracker as who made its changes.
	tctx := alm.WithActor(ctx, alm.Actor{Label: product})
	if err := s.Store.ApplyTrackerChange(tctx, l.EntityType, l.EntityID, product, ch); err != nil {
		return err
	}
	if len(trellisWon) > 0 {
		if _, err := s.Store.NoteOnTimeline(tctx, l.EntityType, l.EntityID, fmt.Sprintf("%s edited on both sides; Trellis's later edit went to %s", strings.Join(trellisWon, ", "), product)); err != nil {
			return err
		}
	}
	if err := s.syncComments(ctx, cl, l, product); err != nil {
		return s.fault(ctx, l, c, err)
	}
	if next["linked"] != "1" {
		u := s.recordURL(l)
		if err := cl.Link(ctx, l.RemoteKey, u, l.EntityKey+" in Trellis"); err != nil {
			return s.fault(ctx, l, c, err)
		}
		next["linked"] = "1"
	}
	if c.Status != "ok" {
		_ = s.Store.SetTrackerConnectionStatus(ctx, c.ID, "ok", "")
	}
	return s.Store.SaveTrackerLinkState(ctx, l.ID, is.URL, is.Status, next, state, msg)
}

func (s *Service) recordURL(l alm.TrackerLink) string {
	path := "/work-items/"
	if l.EntityType == "requirement" {
		path = "/requirements/"
	}
	return strings.TrimRight(s.BaseURL, "/") + path + l.EntityKey
}

// syncComments copies the tracker's new comments to Trellis (requirement
// discussion, or the work item's timeline) and a requirement's new
// Trellis comments to the tracker, each once.
func (s *Service) syncComments(ctx context.Context, cl tracker.Client, l alm.TrackerLink, product string) error {
	refs, err := s.Store.TrackerCommentRefs(ctx, l.ID)
	if err != nil {
		return err
	}
	remote, err := cl.Comments(ctx, l.RemoteKey)
	if err != nil {
		return err
	}
	sent := map[string]bool{}
	for _, ref := range refs {
		sent[ref] = true
	}
	suffix := " (in " + product + ")"
	for _, rc := range remote {
		if _, ok := refs[rc.ID]; ok {
			continue
		}
		if strings.HasPrefix(rc.Body, trellisMark) {
			// Trellis's own post whose reference was lost (a crash between
			// posting and recording): never echo it back.
			_ = s.Store.AddTrackerCommentRef(ctx, l.ID, rc.ID, "echo:"+rc.ID)
			continue
		}
		who := rc.Author
		if who == "" {
			who = "someone"
		}
		ref := ""
		if l.EntityType == "requirement" {
			actx := alm.WithActor(store.FromTracker(ctx), alm.Actor{Label: who + suffix})
			cm, err := s.Store.AddComment(actx, l.EntityKey, alm.NewComment{Kind: alm.CommentNote, Body: rc.Body}, false)
			if err != nil {
				return err
			}
			ref = "comment:" + strconv.FormatInt(cm.ID, 10)
		} else {
			id, err := s.Store.NoteOnTimeline(alm.WithActor(ctx, alm.Actor{Label: who + suffix}), l.EntityType, l.EntityID, "commented: "+rc.Body)
			if err != nil {
				return err
			}
			ref = "timeline:" + strconv.FormatInt(id, 10)
		}
		if err := s.Store.AddTrackerCommentRef(ctx, l.ID, rc.ID, ref); err != nil {
			return err
		}
	}
	if l.EntityType != "requirement" {
		return nil
	}
	cs, err := s.Store.Comments(ctx, l.EntityID)
	if err != nil {
		return err
	}
	var flat []alm.Comment
	for _, c := range cs {
		flat = append(flat, c)
		flat = append(flat, c.Replies...)
	}
	for _, c := range flat {
		ref := "comment:" + strconv.FormatInt(c.ID, 10)
		if sent[ref] || strings.HasSuffix(c.AuthorName, suffix) || c.CreatedAt.Before(l.CreatedAt) {
			continue
		}
		posted, err := cl.AddComment(ctx, l.RemoteKey, fmt.Sprintf("%s **%s** in Trellis: %s", trellisMark, c.AuthorName, c.Body))
		if err != nil {
			return err
		}
		if err := s.Store.AddTrackerCommentRef(ctx, l.ID, posted.ID, ref); err != nil {
			return err
		}
	}
	return nil
}

// trellisMark starts every comment Trellis posts, so it is never read
// back as a person's.
const trellisMark = "[Trellis]"

// Deliver posts the link's waiting delivery events (promoted, deployed,
// rolled back, delivered) on its issue as comments, oldest first, each
// once: whichever delivery job runs first posts them all in order.
func (s *Service) Deliver(ctx context.Context, linkID int64) error {
	l, err := s.Store.TrackerLinkByID(ctx, linkID)
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeNotFound {
			return nil
		}
		return err
	}
	pending, err := s.Store.PendingTrackerDeliveries(ctx, l.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	c, err := s.Store.TrackerConnectionByID(ctx, l.ConnectionID)
	if err != nil {
		return err
	}
	cl, err := s.Client(c)
	if err != nil {
		return err
	}
	// A process that died after the tracker took a comment and before
	// Trellis recorded it left it there: it is found by its reference and
	// recorded, not posted again.
	existing, err := cl.Comments(ctx, l.RemoteKey)
	if err != nil {
		return s.fault(ctx, l, c, err)
	}
	for _, d := range pending {
		ref := fmt.Sprintf("(Trellis event %d)", d.EventID)
		done := ""
		for _, rc := range existing {
			if strings.Contains(rc.Body, ref) {
				done = rc.ID
			}
		}
		if done == "" {
			text := fmt.Sprintf("%s %s %s: %s — %s %s", trellisMark, l.EntityKey, deliveryVerb(d.Kind), d.Summary, s.recordURL(l), ref)
			posted, err := cl.AddComment(ctx, l.RemoteKey, text)
			if err != nil {
				return s.fault(ctx, l, c, err)
			}
			crashpoint.At("tracker.posted")
			done = posted.ID
		}
		if err := s.Store.MarkTrackerDelivered(ctx, l.ID, d.EventID, done); err != nil {
			return err
		}
	}
	return nil
}

func deliveryVerb(kind string) string {
	switch kind {
	case "promotion.open":
		return "promoted"
	case "work_item.deployed":
		return "deployed"
	case "work_item.rolled_back", "promotion.rollback.succeeded":
		return "rolled back"
	case "work_item.returned":
		return "returned"
	case "requirement.status":
		return "delivered"
	}
	return "update"
}

// IsDelivery reports whether an event is one the tracker hears about as
// a comment.
func IsDelivery(kind, summary string) bool {
	switch kind {
	case "promotion.open", "work_item.deployed", "work_item.rolled_back", "work_item.returned":
		return true
	case "requirement.status":
		return strings.Contains(strings.ToLower(summary), "delivered")
	}
	return false
}

// fault records err on the link (and a refused token on the connection).
// Faults that pass (rate limit, tracker down) are returned for retry.
func (s *Service) fault(ctx context.Context, l alm.TrackerLink, c alm.TrackerConnection, err error) error {
	code := tracker.CodeOf(err)
	switch code {
	case tracker.CodeNotFound:
		return s.Store.SetTrackerLinkError(ctx, l.ID, "deleted", err.Error()+" The Trellis record is kept; unlink it or link it to another issue.")
	case tracker.CodeAuth:
		_ = s.Store.SetTrackerConnectionStatus(ctx, c.ID, "error", err.Error()+" Reconnect with a new token in the project's tracker settings.")
		return s.Store.SetTrackerLinkError(ctx, l.ID, "error", err.Error()+" Nothing is lost: the sync resumes when the project reconnects.")
	case tracker.CodeRateLimit, tracker.CodeDown, "":
		_ = s.Store.SetTrackerLinkError(ctx, l.ID, "error", err.Error()+" Waiting to retry; nothing is lost.")
		return err
	}
	return s.Store.SetTrackerLinkError(ctx, l.ID, "error", err.Error())
}

// Webhook verifies a tracker's delivery for the connection and returns
// the links it concerns; a deleted issue marks its link.
func (s *Service) Webhook(ctx context.Context, connID int64, r *http.Request, body []byte) ([]int64, error) {
	c, err := s.Store.TrackerConnectionByID(ctx, connID)
	if err != nil {
		return nil, err
	}
	cl, err := s.Client(c)
	if err != nil {
		return nil, err
	}
	sec, err := s.WebhookSecret(c)
	if err != nil {
		return nil, err
	}
	ev, err := cl.Webhook(r, body, sec)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, k := range ev.Keys {
		l, err := s.Store.TrackerLinkByRemote(ctx, c.ID, k)
		if err != nil {
			if alm.ErrorCode(err) == alm.CodeNotFound {
				continue // an issue Trellis does not track
			}
			return nil, err
		}
		if ev.Deleted {
			if err := s.Store.SetTrackerLinkError(ctx, l.ID, "deleted", fmt.Sprintf("%s was deleted in %s. The Trellis record is kept; unlink it or link it to another issue.", alm.TrackerDisplayKey(c.Kind, k), tracker.Kind(c.Kind).Label())); err != nil {
				return nil, err
			}
			continue
		}
		ids = append(ids, l.ID)
	}
	return ids, nil
}
