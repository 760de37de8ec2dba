// Requirements: what the business asked for, its acceptance criteria, its
// status rules and its specification versions.

package alm

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Priority ranks requirements.
type Priority string

const (
	PriorityLow      Priority = "low"
	PriorityMedium   Priority = "medium"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

// Priorities lists priorities from most to least urgent.
var Priorities = []Priority{PriorityCritical, PriorityHigh, PriorityMedium, PriorityLow}

// ReqStatus is where a requirement is in its life.
type ReqStatus string

const (
	ReqDraft      ReqStatus = "draft"
	ReqProposed   ReqStatus = "proposed"
	ReqAccepted   ReqStatus = "accepted"
	ReqInDelivery ReqStatus = "in_delivery"
	ReqDelivered  ReqStatus = "delivered"
	ReqClosed     ReqStatus = "closed"
	ReqRejected   ReqStatus = "rejected"
)

// ReqStatuses lists the statuses in lifecycle order.
var ReqStatuses = []ReqStatus{ReqDraft, ReqProposed, ReqAccepted, ReqInDelivery, ReqDelivered, ReqClosed, ReqRejected}

// Label is the status as people say it.
func (s ReqStatus) Label() string {
	switch s {
	case ReqInDelivery:
		return "In delivery"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Tone is the status's colour in badges.
func (s ReqStatus) Tone() string {
	switch s {
	case ReqProposed:
		return "info"
	case ReqAccepted:
		return "violet"
	case ReqInDelivery:
		return "warn"
	case ReqDelivered, ReqClosed:
		return "ok"
	case ReqRejected:
		return "bad"
	}
	return ""
}

// reqMoves says which roles may move a requirement from one status to
// another. Product owners own the spec; release managers and developers
// start and finish delivery.
var reqMoves = map[[2]ReqStatus][]Role{
	{ReqDraft, ReqProposed}:       {RoleProductOwner},
	{ReqProposed, ReqDraft}:       {RoleProductOwner},
	{ReqProposed, ReqAccepted}:    {RoleProductOwner},
	{ReqProposed, ReqRejected}:    {RoleProductOwner},
	{ReqDraft, ReqRejected}:       {RoleProductOwner},
	{ReqAccepted, ReqRejected}:    {RoleProductOwner},
	{ReqAccepted, ReqInDelivery}:  {RoleProductOwner, RoleReleaseManager, RoleDeveloper},
	{ReqInDelivery, ReqAccepted}:  {RoleProductOwner, RoleReleaseManager},
	{ReqInDelivery, ReqDelivered}: {RoleReleaseManager},
	{ReqDelivered, ReqInDelivery}: {RoleReleaseManager},
	{ReqDelivered, ReqClosed}:     {RoleProductOwner},
	{ReqRejected, ReqDraft}:       {RoleProductOwner},
	{ReqClosed, ReqInDelivery}:    {RoleProductOwner},
}

// NextReqStatuses lists the statuses a requirement may move to from s.
func NextReqStatuses(s ReqStatus) []ReqStatus {
	var out []ReqStatus
	for _, to := range ReqStatuses {
		if _, ok := reqMoves[[2]ReqStatus{s, to}]; ok {
			out = append(out, to)
		}
	}
	return out
}

// CanMoveRequirement says whether role may move a requirement from one
// status to another, and why not. Admins may make any listed move.
func CanMoveRequirement(role Role, from, to ReqStatus) error {
	if from == to {
		return nil
	}
	roles, ok := reqMoves[[2]ReqStatus{from, to}]
	if !ok {
		var next []string
		for _, s := range NextReqStatuses(from) {
			next = append(next, s.Label())
		}
		return Errorf(CodeInvalid, "A %s requirement cannot move to %s; it can move to: %s.", strings.ToLower(from.Label()), to.Label(), strings.Join(next, ", "))
	}
	if role == RoleAdmin || slices.Contains(roles, role) {
		return nil
	}
	var who []string
	for _, r := range roles {
		who = append(who, r.Label())
	}
	return Errorf(CodeForbidden, "Moving a requirement from %s to %s is for: %s.", from.Label(), to.Label(), strings.Join(who, ", "))
}

// Criterion is one acceptance criterion; Met marks it fulfilled.
type Criterion struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	Met  bool   `json:"met"`
}

// Requirement is what a product owner asks for.
type Requirement struct {
	ID              int64       `json:"id"`
	ProjectID       int64       `json:"project_id"`
	Key             string      `json:"key"`
	Title           string      `json:"title"`
	Description     string      `json:"description"`
	BusinessGoal    string      `json:"business_goal"`
	Criteria        []Criterion `json:"acceptance_criteria"`
	Priority        Priority    `json:"priority"`
	Status          ReqStatus   `json:"status"`
	RequesterID     *int64      `json:"requester_id"`
	RequesterName   string      `json:"requester_name"`
	OwnerID         *int64      `json:"owner_id"`
	OwnerName       string      `json:"owner_name"`
	Labels          []string    `json:"labels"`
	TargetReleaseID *int64      `json:"target_release_id"`
	TargetRelease   string      `json:"target_release"`
	Version         int         `json:"version"`
	OpenQuestions   int         `json:"open_questions"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// CriteriaTexts lists the texts of criteria, in order.
func CriteriaTexts(cs []Criterion) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

// RequirementInput is the editable part of a requirement.
type RequirementInput struct {
	Title           string
	Description     string
	BusinessGoal    string
	Criteria        []string // one per line in forms
	Priority        Priority
	RequesterID     *int64
	OwnerID         *int64
	Labels          []string
	TargetReleaseID *int64
}

// Normalize trims text, drops empty criteria and labels and duplicate
// labels, and defaults the priority.
func (in *RequirementInput) Normalize() {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.BusinessGoal = strings.TrimSpace(in.BusinessGoal)
	var crit []string
	for _, c := range in.Criteria {
		c = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(c), "-*•[] "))
		if c != "" {
			crit = append(crit, c)
		}
	}
	in.Criteria = crit
	in.Labels = NormalizeLabels(in.Labels)
	if in.Priority == "" {
		in.Priority = PriorityMedium
	}
}

// NormalizeLabels lower-cases, trims and de-duplicates labels, keeping order.
func NormalizeLabels(labels []string) []string {
	out := []string{}
	for _, l := range labels {
		for _, part := range strings.Split(l, ",") {
			part = strings.ToLower(strings.TrimSpace(part))
			if part != "" && !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out
}

// Validate checks a requirement's fields.
func (in RequirementInput) Validate() error {
	f := map[string]string{}
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		f["title"] = "Give the requirement a title."
	case n > 200:
		f["title"] = "Keep the title under 200 characters."
	}
	if utf8.RuneCountInString(in.Description) > 50000 {
		f["description"] = "Keep the description under 50,000 characters."
	}
	if !slices.Contains(Priorities, in.Priority) {
		f["priority"] = "Choose critical, high, medium or low."
	}
	if len(in.Criteria) > 50 {
		f["criteria"] = "Keep to 50 acceptance criteria."
	}
	for _, c := range in.Criteria {
		if utf8.RuneCountInString(c) > 500 {
			f["criteria"] = "Keep each acceptance criterion under 500 characters."
		}
	}
	if err := validateLabels(in.Labels); err != "" {
		f["labels"] = err
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

var labelRe = regexp.MustCompile(`^[\p{Ll}\p{N}][\p{Ll}\p{N}_.:/-]{0,39}$`)

func validateLabels(labels []string) string {
	if len(labels) > 20 {
		return "Keep to 20 labels."
	}
	for _, l := range labels {
		if !labelRe.MatchString(l) {
			return fmt.Sprintf("Label %q: use letters, digits, - _ . : / (up to 40).", l)
		}
	}
	return ""
}

// SpecVersion is a requirement's spec as it stood after one change.
type SpecVersion struct {
	Version      int       `json:"version"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	BusinessGoal string    `json:"business_goal"`
	Criteria     []string  `json:"acceptance_criteria"`
	EditedBy     string    `json:"edited_by"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
}

// Text is the version as one document, for diffs.
func (v SpecVersion) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", v.Title)
	if v.BusinessGoal != "" {
		fmt.Fprintf(&b, "Business goal: %s\n\n", v.BusinessGoal)
	}
	if v.Description != "" {
		b.WriteString(v.Description + "\n\n")
	}
	if len(v.Criteria) > 0 {
		b.WriteString("Acceptance criteria:\n")
		for _, c := range v.Criteria {
			b.WriteString("- " + c + "\n")
		}
	}
	return b.String()
}

// ItemCriterion is an acceptance criterion of a requirement a work item
// delivers, as a tester sees it at sign-off.
type ItemCriterion struct {
	ID          int64  `json:"id"`
	Requirement string `json:"requirement"`
	Text        string `json:"text"`
	Met         bool   `json:"met"`
}
