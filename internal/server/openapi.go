package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The OpenAPI 3 description of /api/v1, built from one table per
// operation so that TestOpenAPIMatchesRoutes can hold it to the router.

type obj = map[string]any

// apiOp describes one operation.
type apiOp struct {
	method, path, summary, perm string
	query                       []string // names of query parameters
	body                        string   // request schema name, "" for none
	status                      int      // success status
	resp                        string   // response schema name
}

var listQuery = []string{"after", "limit"}

var apiOps = []apiOp{
	{"GET", "/api/v1/me", "Who the caller is and how they signed in", "view", nil, "", 200, "Me"},
	{"GET", "/api/v1/requirements/{key}/graph", "The lineage graph around a requirement: work items, components, builds, promotions, deployments, orgs (nodes in columns, edges left to right)", "project:view", nil, "", 200, "Graph"},
	{"GET", "/api/v1/work-items/{key}/graph", "The lineage graph around a work item", "project:view", nil, "", 200, "Graph"},
	{"GET", "/api/v1/projects/{project}/releases/{id}/graph", "The lineage graph around a release", "project:view", nil, "", 200, "Graph"},
	{"GET", "/api/v1/orgs/{id}/components/{type}/{name}/graph", "Why a component is in an org: the lineage graph back to its requirements", "view", nil, "", 200, "Graph"},
	{"POST", "/api/v1/work-items/{key}/validations", "Validate the work item's change set (its branch's delta in a git-backed project) against a stage that lets developers do so: check-only, the stage's test level", "project:edit_work_items", nil, "PromoteBranch", 202, "Validation"},
	{"GET", "/api/v1/me/inbox", "What waits for the caller: approvals they can give, questions on their requirements, sign-offs, their failed validations and deploys, merges waiting on conflicts, drift alerts and feedback to triage", "view", nil, "", 200, "Inbox"},
	{"GET", "/api/v1/projects", "List projects with counts and your membership", "view", nil, "", 200, "ProjectList"},
	{"POST", "/api/v1/projects", "Create a project (you become a member)", "create_project", nil, "NewProject", 201, "Project"},
	{"GET", "/api/v1/projects/{project}", "A project and your role in it", "project:view", nil, "", 200, "ProjectScope"},
	{"GET", "/api/v1/projects/{project}/requirements", "List requirements (filters, cursor pagination)", "project:view",
		append([]string{"status", "owner", "label", "release", "q", "sort"}, listQuery...), "", 200, "RequirementPage"},
	{"POST", "/api/v1/projects/{project}/requirements", "Create a requirement (starts as a draft)", "project:edit_requirements", nil, "RequirementInput", 201, "Requirement"},
	{"GET", "/api/v1/projects/{project}/requirements/{key}", "A requirement with its acceptance criteria (ETag: its version)", "project:view", nil, "", 200, "Requirement"},
	{"PATCH", "/api/v1/projects/{project}/requirements/{key}", "Edit fields and/or move status; send version or If-Match", "project:move_requirements", nil, "RequirementPatch", 200, "Requirement"},
	{"GET", "/api/v1/requirements/{key}/comments", "The requirement's discussion as threads", "project:view", nil, "", 200, "CommentList"},
	{"POST", "/api/v1/requirements/{key}/comments", "Comment, ask a question, request a change, or reply (answers closes a question)", "project:comment", nil, "NewComment", 201, "Comment"},
	{"PATCH", "/api/v1/requirements/{key}/comments/{comment}", "Mark a question answered, or accept/decline a change request", "project:comment", nil, "CommentState", 200, "Comment"},
	{"GET", "/api/v1/requirements/{key}/lineage", "The chain from the requirement to work items, releases and beyond", "project:view", nil, "", 200, "Lineage"},
	{"GET", "/api/v1/projects/{project}/work-items", "List work items (filters, sorting, cursor pagination)", "project:view",
		append([]string{"status", "kind", "assignee", "requirement", "label", "release", "q", "sort"}, listQuery...), "", 200, "WorkItemPage"},
	{"POST", "/api/v1/projects/{project}/work-items", "Create a work item at the bottom of the backlog", "project:edit_work_items", nil, "WorkItemInput", 201, "WorkItem"},
	{"GET", "/api/v1/projects/{project}/work-items/{key}", "A work item (ETag: its version)", "project:view", nil, "", 200, "WorkItem"},
	{"PATCH", "/api/v1/projects/{project}/work-items/{key}", "Edit, move on the board (status, before) or set the release; send version or If-Match", "project:edit_work_items", nil, "WorkItemPatch", 200, "WorkItem"},
	{"GET", "/api/v1/projects/{project}/board", "The board: each column's count, points and top cards", "project:view", []string{"assignee", "requirement", "label", "release"}, "", 200, "Board"},
	{"GET", "/api/v1/projects/{project}/releases", "List releases", "project:view", nil, "", 200, "ReleaseList"},
	{"POST", "/api/v1/projects/{project}/releases", "Create a release in planning", "project:manage_releases", nil, "ReleaseInput", 201, "Release"},
	{"GET", "/api/v1/projects/{project}/releases/{id}", "A release with its notes (generated unless edited)", "project:view", nil, "", 200, "Release"},
	{"PATCH", "/api/v1/projects/{project}/releases/{id}", "Edit, move status or set notes (null: generated); send revision or If-Match", "project:manage_releases", nil, "ReleasePatch", 200, "Release"},
	{"GET", "/api/v1/orgs", "Connected orgs (never their credentials)", "view", nil, "", 200, "OrgList"},
	{"POST", "/api/v1/orgs", "Connect an org headless with the JWT bearer flow (signs in once before saving)", "manage_orgs", nil, "ConnectOrg", 201, "Org"},
	{"GET", "/api/v1/orgs/{id}", "An org with a live health check and its last snapshot", "view", nil, "", 200, "OrgHealth"},
	{"POST", "/api/v1/orgs/{id}/disconnect", "Revoke and wipe the org's credentials; snapshots stay", "manage_orgs", nil, "", 200, "Org"},
	{"GET", "/api/v1/orgs/{id}/snapshots", "An org's snapshots, newest first, with live progress", "view", nil, "", 200, "SnapshotList"},
	{"POST", "/api/v1/orgs/{id}/snapshots", "Start a snapshot (a background job); poll /api/v1/snapshots/{id}", "snapshot", nil, "", 202, "Snapshot"},
	{"GET", "/api/v1/snapshots/{id}", "A snapshot: status, phase, done/total, warnings, error", "view", nil, "", 200, "Snapshot"},
	{"GET", "/api/v1/comparisons", "Compare snapshots a and b: counts by type and the components (differences only unless change=all)", "view",
		[]string{"a", "b", "change", "type", "q"}, "", 200, "Comparison"},
	{"POST", "/api/v1/comparisons", "Compare snapshots a and b and keep the comparison (every component)", "view", nil, "CompareRequest", 200, "Comparison"},
	{"GET", "/api/v1/comparisons/recent", "The comparisons people made lately, with their totals", "view", nil, "", 200, "ComparisonList"},
	{"GET", "/api/v1/comparisons/diff", "One component in snapshots a and b, with a unified diff", "view", []string{"a", "b", "type", "name"}, "", 200, "ComponentDiff"},
	{"GET", "/api/v1/work-items/{key}/components", "A work item's captured components (history=true adds the replaced ones)", "project:view", []string{"history"}, "", 200, "CapturedList"},
	{"POST", "/api/v1/work-items/{key}/components", "Capture components of a comparison onto the work item", "project:edit_work_items", nil, "CaptureRequest", 201, "CapturedList"},
	{"GET", "/api/v1/projects/{project}/pipeline", "The project's pipeline: stages in order with their org, branch and policy", "project:view", nil, "", 200, "Pipeline"},
	{"PUT", "/api/v1/projects/{project}/pipeline", "Replace the pipeline's stages", "project:manage_pipeline", nil, "Pipeline", 200, "Pipeline"},
	{"GET", "/api/v1/projects/{project}/tracker", "The project's work tracker connection (Jira Cloud, Jira Data Center, Azure DevOps Boards, GitHub Issues), its status mapping and webhook URL", "project:view", nil, "", 200, "Tracker"},
	{"PUT", "/api/v1/projects/{project}/tracker", "Connect (or reconnect) the project's tracker: tested first, naming a wrong URL, token, project or permission; the webhook secret is in the answer only when made", "project:manage_project", nil, "TrackerInput", 200, "Tracker"},
	{"DELETE", "/api/v1/projects/{project}/tracker", "Disconnect the tracker (links go, records stay)", "project:manage_project", nil, "", 204, ""},
	{"PUT", "/api/v1/projects/{project}/tracker/mapping", "Replace the status mapping: tracker status ↔ Trellis status per record type", "project:manage_project", nil, "TrackerMapping", 200, "Tracker"},
	{"POST", "/api/v1/projects/{project}/tracker/import", "Import issues by key as the connection's record type, linked both ways", "project:edit_work_items", nil, "TrackerImport", 201, "TrackerImported"},
	{"GET", "/api/v1/projects/{project}/tracker/links", "The project's links to tracker issues with their sync state and last error", "project:view", nil, "", 200, "TrackerLinkList"},
	{"POST", "/api/v1/work-items/{key}/tracker-link", "Link a work item to a tracker issue by key", "project:edit_work_items", nil, "TrackerLinkInput", 201, "TrackerLink"},
	{"POST", "/api/v1/requirements/{key}/tracker-link", "Link a requirement to a tracker issue by key", "project:edit_requirements", nil, "TrackerLinkInput", 201, "TrackerLink"},
	{"POST", "/api/v1/hooks/trackers/{id}", "A tracker's webhook (Jira X-Hub-Signature, GitHub X-Hub-Signature-256, Azure DevOps basic-auth secret): queues a sync of each linked issue it names", "public", nil, "", 202, "TrackerHookAccepted"},
	{"GET", "/api/v1/projects/{project}/git", "How the project uses version control: its repository (null: org snapshots only) and branching model", "project:view", nil, "", 200, "ProjectGit"},
	{"PUT", "/api/v1/projects/{project}/git", "Keep the project's metadata in a connected repository (repository_id null: none) with a branching model (environment or trunk)", "project:manage_pipeline", nil, "ProjectGit", 200, "ProjectGit"},
	{"GET", "/api/v1/work-items/{key}/branch", "The work item's branch: its commits, how far behind its base it is, and the components it changes", "project:view", nil, "", 200, "BranchStatus"},
	{"POST", "/api/v1/work-items/{key}/promotions", "Promote the work item's branch into a stage (default: the next it has not reached): merged into the stage's branch, built from what the merge changes; conflicts leave the promotion waiting on them (git state conflicts)", "project:promote", nil, "PromoteBranch", 201, "Promotion"},
	{"GET", "/api/v1/work-items/{key}/changes", "What differs between an org snapshot (?snapshot=ID) and the work item's branch, newest change first, with who changed it", "project:view", []string{"snapshot"}, "", 200, "SandboxChanges"},
	{"POST", "/api/v1/work-items/{key}/commits", "Commit picked components of an org snapshot (and deletions) to the work item's branch, as the project lays them out, and push", "project:edit_work_items", nil, "CommitChanges", 201, "Commit"},
	{"GET", "/api/v1/promotions/{id}/conflicts", "A merge promotion's conflicting files: each conflict's ours and theirs, by element for metadata XML, and how each file was settled", "project:view", nil, "", 200, "Conflicts"},
	{"POST", "/api/v1/promotions/{id}/conflicts", "Settle a merge promotion's conflicts ({choices: {path: {hunks: [ours|theirs|both…]} | {file: ours|theirs} | {edited: text}}}): the merge is committed and built", "project:promote", nil, "Resolve", 200, "Promotion"},
	{"POST", "/api/v1/promotions/{id}/push", "Push a deployed merge again after the repository refused it", "project:promote", nil, "", 202, "PushQueued"},
	{"GET", "/api/v1/projects/{project}/stages/git", "Each stage's branch against its org: the commits and components the org has not received (branch ahead of org)", "project:view", nil, "", 200, "StagesGit"},
	{"POST", "/api/v1/projects/{project}/stages/{stage}/deploy-branch", "Open a promotion that deploys the stage's branch as it is (what changed since its org's last commit)", "project:promote", nil, "", 201, "Promotion"},
	{"PUT", "/api/v1/repositories/{id}/host", "Say which git host's pull-request API the repository uses (github, gitlab, bitbucket, azure, none; empty: told from the URL) and a self-hosted API base", "manage_orgs", nil, "RepoHost", 200, "Repository"},
	{"POST", "/api/v1/work-items/{key}/branch", "Start the work item's branch (feature/KEY-title) from the first stage's branch; a second call answers 409 with the branch it has", "project:edit_work_items", nil, "", 200, "WorkBranch"},
	{"GET", "/api/v1/repositories", "Connected git repositories (never their credentials)", "view", nil, "", 200, "RepositoryList"},
	{"POST", "/api/v1/repositories", "Connect a repository: it is mirrored first, so a wrong URL or credential saves nothing", "manage_orgs", nil, "ConnectRepository", 201, "Repository"},
	{"POST", "/api/v1/repositories/{id}/snapshots", "Snapshot a branch or commit (default: the default branch) with the metadata engine", "snapshot", nil, "", 202, "Snapshot"},
	{"GET", "/api/v1/releases/{id}/builds", "A release's builds, newest first", "project:view", nil, "", 200, "BuildList"},
	{"POST", "/api/v1/releases/{id}/builds", "Build the release: 409 lists conflicts to settle with resolutions (conflict key → work item)", "project:manage_releases", nil, "BuildRequest", 201, "Build"},
	{"GET", "/api/v1/builds/{id}", "A build and the components it holds, with the work item each came from", "project:view", nil, "", 200, "BuildDetail"},
	{"GET", "/api/v1/builds/{id}/artifact", "The build's deploy zip (X-Checksum-SHA256 header)", "project:view", nil, "", 200, ""},
	{"GET", "/api/v1/builds/{id}/validations", "A build's validations: status, component failures, test failures", "project:view", nil, "", 200, "ValidationList"},
	{"POST", "/api/v1/builds/{id}/validations", "Validate a build in an org: a check-only deploy at a test level", "project:snapshot", nil, "ValidateRequest", 202, "Validation"},
	{"GET", "/api/v1/projects/{project}/metrics", "The four DORA delivery metrics by week, with totals and their definitions", "project:view", []string{"weeks"}, "", 200, "Metrics"},
	{"GET", "/api/v1/feedback", "Feedback, newest first (project=KEY, status=new|converted|declined)", "view", []string{"project", "status"}, "", 200, "FeedbackList"},
	{"POST", "/api/v1/feedback", "File a problem report or suggestion about a project (screenshots through the page)", "file_feedback", nil, "NewFeedback", 201, "Feedback"},
	{"GET", "/api/v1/feedback/{id}", "One piece of feedback with its triage", "project:view", nil, "", 200, "Feedback"},
	{"POST", "/api/v1/feedback/{id}/convert", "Turn feedback into a requirement or a bug work item, linked to the release that last changed its component", "project:triage_feedback", nil, "ConvertFeedback", 200, "Feedback"},
	{"POST", "/api/v1/feedback/{id}/decline", "Decline feedback with the reason", "project:triage_feedback", nil, "DeclineFeedback", 200, "Feedback"},
	{"GET", "/api/v1/orgs/{id}/backups", "An org's backup schedule, its snapshots (with changes since the one before) and restores", "view", nil, "", 200, "Backups"},
	{"POST", "/api/v1/orgs/{id}/backups", "Back up the org now (a snapshot under its retention)", "restore", nil, "", 202, "Snapshot"},
	{"PUT", "/api/v1/orgs/{id}/backups/policy", "Set the org's backup schedule and retention", "restore", nil, "BackupPolicy", 200, "BackupPolicy"},
	{"POST", "/api/v1/orgs/{id}/backups/restore", "Restore components or whole types from a snapshot (dry_run answers the plan)", "restore", nil, "RestoreRequest", 202, "Deployment"},
	{"GET", "/api/v1/orgs/{id}/backups/data", "An org's data backup policy and runs (records, changes, deletions, bytes, API calls per object)", "view", nil, "", 200, "DataBackups"},
	{"POST", "/api/v1/orgs/{id}/backups/data", "Back the org's records up now (full the first time, then incremental)", "restore", nil, "", 202, "DataBackupRun"},
	{"PUT", "/api/v1/orgs/{id}/backups/data/policy", "Set which objects are backed up, how often, the API share a run may use and the churn alert", "restore", nil, "DataBackupPolicy", 200, "DataBackupPolicy"},
	{"POST", "/api/v1/orgs/{id}/backups/data/restore", "Restore records by id or everything changed since a time, as of a run (dry_run answers per record, 200)", "restore", nil, "DataRestoreRequest", 202, "DataRestore"},
	{"GET", "/api/v1/data-restores/{id}", "A data restore with its result per record", "view", nil, "", 200, "DataRestore"},
	{"PUT", "/api/v1/orgs/{id}/regression", "Schedule the org's regression runs (all local tests every N hours — every_hours, or every_days for whole days — and after Salesforce upgrades)", "restore", nil, "RegressionPolicy", 200, "RegressionPolicy"},
	{"POST", "/api/v1/orgs/{id}/regression/run", "Run the org's regression tests now (all local tests; new failures against the run before raise an alert)", "snapshot", nil, "", 202, "TestRun"},
	{"GET", "/api/v1/orgs/{id}/health", "The org's health over time: API use and coverage readings, deploy failures per week, flaky tests, the regression schedule", "view", nil, "", 200, "OrgTrends"},
	{"GET", "/api/v1/webhooks", "Where events are sent", "manage_webhooks", nil, "", 200, "WebhookList"},
	{"POST", "/api/v1/webhooks", "Send events of chosen topics to an endpoint, signed with a secret (HMAC-SHA256) and retried", "manage_webhooks", nil, "NewWebhook", 201, "Webhook"},
	{"DELETE", "/api/v1/webhooks/{id}", "Stop sending events to an endpoint", "manage_webhooks", nil, "", 204, ""},
	{"GET", "/api/v1/webhooks/{id}/deliveries", "An endpoint's recent deliveries with their attempts and errors", "manage_webhooks", nil, "", 200, "WebhookDeliveries"},
	{"PUT", "/api/v1/repositories/{id}/hook", "Set the secret a git host signs push events with", "manage_webhooks", nil, "RepoHook", 200, "RepoHookURL"},
	{"POST", "/api/v1/hooks/repositories/{id}", "A git host's push event (X-Hub-Signature-256, X-Gitlab-Token or X-Trellis-Signature): snapshots the pushed branch", "public", nil, "PushEvent", 202, "PushAccepted"},
	{"GET", "/api/v1/alerts", "Alerts, newest first (status: unresolved by default, open, acknowledged, resolved, all)", "view", []string{"status", "kind", "org", "limit"}, "", 200, "AlertList"},
	{"GET", "/api/v1/alerts/{id}", "One alert with its drift and who made it", "view", nil, "", 200, "Alert"},
	{"PATCH", "/api/v1/alerts/{id}", "Acknowledge, resolve or reopen an alert", "manage_alerts", nil, "AlertStatus", 200, "Alert"},
	{"GET", "/api/v1/alert-routes", "Where alerts are sent", "manage_alerts", nil, "", 200, "AlertRouteList"},
	{"POST", "/api/v1/alert-routes", "Send alerts of a kind and severity to an email address or chat webhook", "manage_alerts", nil, "AlertRoute", 201, "AlertRoute"},
	{"DELETE", "/api/v1/alert-routes/{id}", "Stop sending alerts along a route", "manage_alerts", nil, "", 204, ""},
	{"POST", "/api/v1/builds/{id}/dependencies", "Add to the release what the build refers to but the org lacks: captured onto the work items needing it, for the next build", "project:edit_work_items", nil, "AddDependencies", 200, "AddedDependencies"},
	{"GET", "/api/v1/orgs/{id}/test-runs", "An org's Apex test runs with every method's outcome", "view", nil, "", 200, "TestRunList"},
	{"POST", "/api/v1/orgs/{id}/test-runs", "Run Apex tests on an org: classes, suites, or all local tests", "snapshot", nil, "TestRunRequest", 202, "TestRun"},
	{"GET", "/api/v1/promotions", "Promotions, newest first (filters: project, status, active, build, release)", "view", []string{"project", "status", "active", "build", "release", "limit"}, "", 200, "PromotionList"},
	{"POST", "/api/v1/promotions", "Open a promotion of a build into a stage (empty stage: the next one it is not deployed in)", "promote", nil, "OpenPromotion", 201, "Promotion"},
	{"GET", "/api/v1/promotions/{id}", "A promotion: gates, decisions, deployments, sign-offs, what will change, allowed actions", "project:view", nil, "", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/approve", "Approve (stage policy: roles, no self-approval)", "project:view", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/reject", "Reject with a reason: the work items go back to development flagged", "project:view", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/comments", "Comment on a promotion", "project:comment", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/signoffs", "Sign off a work item (decision signed_off) or return it to development (decision returned, note)", "project:sign_off", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/deploy", "Deploy once the gates are open (override: admins, change windows and freezes, audited)", "project:promote", nil, "PromotionAct", 202, "Deployment"},
	{"POST", "/api/v1/promotions/{id}/retry", "Deploy a failed or canceled promotion again", "project:promote", nil, "PromotionAct", 202, "Deployment"},
	{"POST", "/api/v1/promotions/{id}/cancel", "Cancel the running deploy, or abandon a promotion not deploying", "project:promote", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/promotions/{id}/abandon", "Abandon a promotion that will not be deployed", "project:promote", nil, "PromotionAct", 200, "PromotionDetail"},
	{"POST", "/api/v1/work-items/{key}/builds", "Build a work item's own change set, to promote it into the first stage", "project:promote", nil, "BuildRequest", 201, "Build"},
	{"GET", "/api/v1/projects/{project}/announcements", "Where releases reaching production are announced (webhook paths hidden)", "project:view", nil, "", 200, "Announcements"},
	{"PUT", "/api/v1/projects/{project}/announcements", "Set announcement emails and chat webhooks (Slack/Teams); webhooks are sealed", "project:manage_pipeline", nil, "Announcements", 200, "Announcements"},
	{"GET", "/api/v1/deployments/{id}", "A deployment: status, live progress, results, and what it changed with the versions it replaced", "project:view", nil, "", 200, "DeploymentDetail"},
	{"POST", "/api/v1/deployments/{id}/rollback", "Roll back a deployment: all of it, or components [\"Type/Name\"]", "project:promote", nil, "PromotionAct", 202, "Deployment"},
	{"POST", "/api/v1/deployments/{id}/cancel", "Cancel a running deployment", "project:promote", nil, "", 202, "Deployment"},
	{"GET", "/api/v1/orgs/{id}/components/{type}/{name}/history", "Every deployment that changed a component in an org, with build, work items and requirements", "view", nil, "", 200, "ComponentHistory"},
	{"GET", "/api/v1/search", "Full-text search over requirements and work items", "view", []string{"q", "project", "limit"}, "", 200, "SearchResults"},
	{"GET", "/api/v1/openapi.json", "This description", "public", nil, "", 200, ""},
}

var queryDocs = map[string]obj{
	"after":       {"description": "next_cursor from the previous page", "schema": obj{"type": "string"}},
	"limit":       {"description": "page size, 1–200 (default 50)", "schema": obj{"type": "integer", "minimum": 1, "maximum": 200}},
	"status":      {"description": "one or more statuses, comma-separated", "schema": obj{"type": "string"}},
	"owner":       {"description": "owner's user id", "schema": obj{"type": "integer"}},
	"assignee":    {"description": "assignee's user id, or none", "schema": obj{"type": "string"}},
	"requirement": {"description": "a requirement key", "schema": obj{"type": "string"}},
	"label":       {"schema": obj{"type": "string"}},
	"release":     {"description": "release id", "schema": obj{"type": "integer"}},
	"kind":        {"schema": obj{"type": "string", "enum": []string{"story", "bug", "task", "chore"}}},
	"q":           {"description": "full-text query: words, \"phrases\", -exclusions, or", "schema": obj{"type": "string"}},
	"sort":        {"schema": obj{"type": "string"}},
	"project":     {"description": "a project key", "schema": obj{"type": "string"}},
	"a":           {"description": "the first snapshot's id", "required": true, "schema": obj{"type": "integer"}},
	"b":           {"description": "the second snapshot's id", "required": true, "schema": obj{"type": "integer"}},
	"change":      {"description": "new, changed, deleted, unchanged or all (default: the differences)", "schema": obj{"type": "string"}},
	"name":        {"description": "a component's full name", "schema": obj{"type": "string"}},
	"history":     {"description": "true to include replaced captures", "schema": obj{"type": "boolean"}},
	"active":      {"description": "true: open, deploying, failed or canceled promotions only", "schema": obj{"type": "boolean"}},
	"build":       {"description": "a build id", "schema": obj{"type": "integer"}},
}

func str() obj { return obj{"type": "string"} }
func snapshotProps() obj {
	return obj{"id": integer(), "backup": boolean(), "source": enum("org", "git"), "org_id": nint(), "org_name": str(), "ref": str(), "label": str(),
		"status": enum("queued", "running", "done", "failed", "canceled"), "phase": str(), "repo_id": nint(), "done": integer(), "total": integer(), "warnings": arr(str()),
		"error": str(), "components": integer(), "manifest_bytes": integer(), "new_blob_bytes": integer(), "started_at": when(), "finished_at": obj{"type": []string{"string", "null"}}}
}

func with(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func num() obj  { return obj{"type": "number"} }
func nnum() obj { return obj{"type": []string{"number", "null"}} }

func nstr() obj               { return obj{"type": []string{"string", "null"}} }
func integer() obj            { return obj{"type": "integer"} }
func nint() obj               { return obj{"type": []string{"integer", "null"}} }
func boolean() obj            { return obj{"type": "boolean"} }
func when() obj               { return obj{"type": "string", "format": "date-time"} }
func ref(name string) obj     { return obj{"$ref": "#/components/schemas/" + name} }
func arr(items obj) obj       { return obj{"type": "array", "items": items} }
func enum(vals ...string) obj { return obj{"type": "string", "enum": vals} }
func object(props obj, req ...string) obj {
	o := obj{"type": "object", "properties": props}
	if len(req) > 0 {
		o["required"] = req
	}
	return o
}
func page(item string) obj {
	return object(obj{"items": arr(ref(item)), "next_cursor": obj{"type": "string", "description": "absent on the last page"}}, "items")
}

var reqStatusEnum = enum("draft", "proposed", "accepted", "in_delivery", "delivered", "closed", "rejected")
var workStatusEnum = enum("backlog", "ready", "in_progress", "in_review", "ready_to_promote", "in_release", "done")
var relStatusEnum = enum("planning", "building", "in_test", "approved", "released", "abandoned")

func schemas() obj {
	reqFields := obj{"title": str(), "description": obj{"type": "string", "description": "Markdown"}, "business_goal": str(),
		"acceptance_criteria": arr(str()), "priority": enum("critical", "high", "medium", "low"), "requester_id": nint(), "owner_id": nint(),
		"labels": arr(str()), "target_release_id": nint()}
	reqPatch := obj{"status": reqStatusEnum, "version": integer()}
	for k, v := range reqFields {
		reqPatch[k] = v
	}
	itemFields := obj{"kind": enum("story", "bug", "task", "chore"), "title": str(), "description": str(), "assignee_id": nint(), "estimate": nint(),
		"labels": arr(str()), "approach": enum("", "declarative", "code", "both"), "maintenance_note": str(), "requirements": arr(str())}
	itemPatch := obj{"status": workStatusEnum, "before": obj{"type": "string", "description": "place the card above this work item"}, "release_id": nint(), "version": integer()}
	for k, v := range itemFields {
		itemPatch[k] = v
	}
	relFields := obj{"name": str(), "version": str(), "target_date": obj{"type": []string{"string", "null"}, "format": "date"}}
	relPatch := obj{"notes": obj{"type": []string{"string", "null"}, "description": "Markdown; null or empty goes back to generated notes"}, "status": relStatusEnum, "revision": integer()}
	for k, v := range relFields {
		relPatch[k] = v
	}
	comment := object(obj{"id": integer(), "requirement_id": integer(), "parent_id": nint(), "kind": enum("comment", "question", "change_request"),
		"state": enum("open", "answered", "accepted", "declined"), "body": str(), "proposed_title": str(), "proposed_description": str(),
		"author_id": nint(), "author_name": str(), "resolved_by": str(), "resolved_at": when(), "created_at": when(), "replies": arr(ref("Comment"))})
	return obj{
		"Error": object(obj{"error": object(obj{"code": str(), "message": str(), "fields": obj{"type": "object", "additionalProperties": str()}}, "code", "message"), "request_id": str()}, "error"),
		"Me":    object(obj{"id": integer(), "email": str(), "name": str(), "role": str(), "auth": enum("token", "session")}),
		"Project": object(obj{"id": integer(), "key": obj{"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,9}$"}, "name": str(), "description": str(), "created_at": when()},
			"key", "name"),
		"NewProject": object(obj{"key": str(), "name": str(), "description": str()}, "key", "name"),
		"ProjectSummary": object(obj{"id": integer(), "key": str(), "name": str(), "description": str(), "created_at": when(),
			"requirements": integer(), "work_items": integer(), "open_work_items": integer(), "releases": integer(), "member_role": nstr()}),
		"ProjectList":  object(obj{"items": arr(ref("ProjectSummary"))}, "items"),
		"ProjectScope": object(obj{"project": ref("Project"), "your_role": str(), "member": boolean()}),
		"Requirement": object(obj{"id": integer(), "project_id": integer(), "requester_name": str(), "key": str(), "title": str(), "description": str(), "business_goal": str(),
			"acceptance_criteria": arr(object(obj{"id": integer(), "text": str(), "met": boolean()})), "priority": str(), "status": reqStatusEnum,
			"requester_id": nint(), "owner_id": nint(), "owner_name": str(), "labels": arr(str()), "target_release_id": nint(), "target_release": str(),
			"version": integer(), "open_questions": integer(), "created_at": when(), "updated_at": when(), "work_items": integer(), "work_items_done": integer()}),
		"RequirementInput": object(reqFields, "title"),
		"RequirementPatch": object(reqPatch, "version"),
		"RequirementPage":  page("Requirement"),
		"Comment":          comment,
		"CommentList":      object(obj{"items": arr(ref("Comment"))}, "items"),
		"NewComment": object(obj{"kind": enum("comment", "question", "change_request"), "body": str(), "parent_id": nint(),
			"proposed_title": str(), "proposed_description": str(), "answers": boolean()}, "body"),
		"CommentState": object(obj{"state": enum("answered", "accepted", "declined")}, "state"),
		"Lineage": object(obj{"requirement": object(obj{"key": str(), "title": str(), "status": reqStatusEnum, "project": str()}),
			"work_items": arr(object(obj{"key": str(), "title": str(), "kind": str(), "status": workStatusEnum, "assignee": str(), "release_id": nint(), "component_changes": arr(object(obj{"type": str(), "name": str(), "change": str(), "hash": str()}))})),
			"releases":   arr(object(obj{"id": integer(), "name": str(), "version": str(), "status": relStatusEnum, "work_items": arr(str()), "builds": arr(obj{}), "deployments": arr(obj{})}))}),
		"WorkItem": object(obj{"id": integer(), "project_id": integer(), "key": str(), "kind": str(), "title": str(), "description": str(), "status": workStatusEnum,
			"assignee_id": nint(), "assignee_name": str(), "estimate": nint(), "labels": arr(str()), "approach": str(), "maintenance_note": str(),
			"release_id": nint(), "release_name": str(), "requirements": arr(str()), "version": integer(), "created_at": when(), "updated_at": when(),
			"returned_reason": str(), "found_in_release_id": integer(), "found_in_release_name": str()}),
		"WorkItemInput": object(itemFields, "title"),
		"WorkItemPatch": object(itemPatch, "version"),
		"WorkItemPage":  page("WorkItem"),
		"Board":         object(obj{"columns": arr(object(obj{"status": workStatusEnum, "count": integer(), "points": integer(), "items": arr(ref("WorkItem"))}))}),
		"Release": object(obj{"id": integer(), "project_id": integer(), "name": str(), "version": str(), "target_date": nstr(), "status": relStatusEnum, "notes": str(),
			"notes_edited": boolean(), "work_items": integer(), "revision": integer(), "created_at": when(), "updated_at": when()}),
		"ReleaseInput": object(relFields, "name"),
		"ReleasePatch": object(relPatch, "revision"),
		"ReleaseList":  object(obj{"items": arr(ref("Release"))}, "items"),
		"Org": object(obj{"id": integer(), "name": str(), "kind": enum("production", "full_sandbox", "partial_sandbox", "developer_sandbox", "scratch", "developer"),
			"login_url": str(), "instance_url": str(), "api_version": str(), "username": str(), "org_id": str(), "user_id": str(), "auth": enum("oauth", "jwt"),
			"client_id": str(), "status": enum("connected", "needs_reauth", "disconnected"), "last_error": str(), "last_checked_at": obj{"type": []string{"string", "null"}},
			"created_at": when(), "updated_at": when()}),
		"OrgList": object(obj{"items": arr(ref("Org"))}, "items"),
		"ConnectOrg": object(obj{"name": str(), "kind": str(), "login_url": str(), "api_version": str(), "username": str(), "client_id": str(),
			"private_key": obj{"type": "string", "description": "PEM; sealed at rest, never returned"}}, "name", "kind", "login_url", "username", "private_key"),
		"OrgHealth": object(obj{"org": ref("Org"), "health": object(obj{"ok": boolean(), "problem": str(), "username": str(), "org_id": str(), "api_version": str(),
			"api_requests_used": integer(), "api_requests_max": integer(), "checked_at": when()}), "last_snapshot": obj{"type": []string{"object", "null"}}}),
		"Snapshot": object(snapshotProps()),
		"Backup":   object(with(snapshotProps(), obj{"diff_new": nint(), "diff_changed": nint(), "diff_deleted": nint()})),
		"BackupPolicy": object(obj{"org_id": integer(), "enabled": boolean(), "every_hours": integer(), "keep_daily": integer(), "keep_weekly": integer(),
			"next_at": when(), "updated_at": when()}),
		"Backups": object(obj{"policy": ref("BackupPolicy"), "items": arr(ref("Backup")), "restores": arr(ref("Deployment"))}, "policy", "items"),
		"RestoreRequest": object(obj{"snapshot_id": integer(), "components": arr(str()), "types": arr(str()), "delete_added": boolean(),
			"dry_run": obj{"type": "boolean", "description": "answer the plan (200) instead of starting the restore (202)"}}, "snapshot_id"),
		"RestorePlan": object(obj{"snapshot_id": integer(), "components": arr(ref("DeploymentComponent")), "unchanged": arr(ref("DeploymentComponent")), "test_level": str()}),
		"Alert": object(obj{"id": integer(), "kind": enum("drift", "backup_failed", "data_churn", "test_failure"), "severity": enum("info", "warning", "critical"),
			"org_id": nint(), "org_name": str(), "title": str(), "body": str(), "snapshot_id": nint(), "previous_id": nint(),
			"status": enum("open", "acknowledged", "resolved"), "work_item": str(), "resolved_by": str(), "created_at": when(), "updated_at": when(),
			"deliveries": integer(), "undelivered": integer(),
			"drift": arr(object(obj{"type": str(), "name": str(), "change": enum("new", "changed", "deleted"), "by": str(), "at": when(), "action": str(),
				"old_hash": str(), "new_hash": str()}))}),
		"Metrics": object(obj{"project": str(), "definitions": object(obj{"deployment_frequency": str(), "lead_time": str(), "change_failure_rate": str(), "time_to_restore": str()}),
			"metrics": object(obj{"from": when(), "to": when(), "bucket": enum("week"),
				"deployment_frequency": arr(ref("MetricPoint")), "lead_time_hours": arr(ref("MetricPoint")),
				"change_failure_rate": arr(ref("MetricPoint")), "time_to_restore_hours": arr(ref("MetricPoint")),
				"totals": object(obj{"deployments": integer(), "deploys_per_week": num(), "lead_time_hours": nnum(), "change_failure_rate": nnum(),
					"time_to_restore_hours": nnum(), "failures": integer()})})}),
		"MetricPoint": object(obj{"start": when(), "value": nnum(), "count": integer()}),
		"NewFeedback": object(obj{"project": str(), "kind": enum("problem", "suggestion"), "title": str(), "body": str(), "where_seen": str(),
			"component_type": str(), "component_name": str()}, "project", "kind", "title"),
		"Feedback": object(obj{"id": integer(), "project_id": integer(), "project": str(), "kind": enum("problem", "suggestion"), "title": str(), "body": str(),
			"where_seen": str(), "component_type": str(), "component_name": str(), "has_screenshot": boolean(), "status": enum("new", "converted", "declined"),
			"triage_note": str(), "requirement": str(), "work_item": str(), "release_id": nint(), "release_name": str(), "submitted_by": str(),
			"created_at": when(), "updated_at": when()}),
		"FeedbackList":    object(obj{"items": arr(ref("Feedback"))}, "items"),
		"ConvertFeedback": object(obj{"into": enum("requirement", "bug")}, "into"),
		"DeclineFeedback": object(obj{"note": str()}, "note"),
		"DataBackupPolicy": object(obj{"org_id": integer(), "enabled": boolean(), "objects": arr(str()), "api_share": num(), "churn_alert": num(),
			"every_hours": integer(), "next_at": when(), "updated_at": when()}),
		"DataBackupRun": object(obj{"id": integer(), "org_id": integer(), "kind": enum("full", "incremental"), "status": enum("queued", "running", "done", "partial", "failed"),
			"phase": str(), "objects": arr(object(obj{"object": str(), "state": enum("done", "stopped", "failed", "not reached"), "records": integer(), "changed": integer(), "deleted": integer(), "bytes": integer(), "error": str()})),
			"records": integer(), "changed": integer(), "deleted": integer(), "bytes": integer(), "api_calls": integer(), "error": str(),
			"started_by": str(), "started_at": when(), "finished_at": obj{"type": []string{"string", "null"}}}),
		"DataBackups": object(obj{"policy": ref("DataBackupPolicy"), "runs": arr(ref("DataBackupRun"))}, "policy", "runs"),
		"DataRestoreRequest": object(obj{"objects": arr(str()), "ids": arr(str()), "since": when(), "as_of_run": integer(),
			"dry_run": obj{"type": "boolean", "description": "answer {results} per record (200) instead of starting the restore (202)"}}, "objects"),
		"RecordResult": object(obj{"object": str(), "old_id": str(), "new_id": str(), "action": enum("create", "update", "unchanged", "not_found"), "fields": arr(str()),
			"from_run": integer(), "note": str(), "error": str()}),
		"DataRestore": object(obj{"id": integer(), "org_id": integer(), "as_of_run": nint(), "status": str(), "created": integer(), "updated": integer(), "failed": integer(),
			"results": arr(ref("RecordResult")), "error": str(), "started_by": str(), "started_at": when(), "finished_at": obj{"type": []string{"string", "null"}}}),
		"RegressionPolicy": object(obj{"org_id": integer(), "enabled": boolean(), "every_hours": integer(), "every_days": integer(), "on_upgrade": boolean(), "last_api_version": str(), "next_at": when()}),
		"OrgTrends": object(obj{"samples": arr(object(obj{"at": when(), "api_used": integer(), "api_max": integer(), "coverage": nint(), "api_version": str()})),
			"deploy_failures": arr(ref("MetricPoint")), "runs_considered": integer(), "regression": ref("RegressionPolicy"),
			"flaky": arr(object(obj{"class": str(), "method": str(), "runs": integer(), "failures": integer(), "flips": integer()}))}),
		"Webhook": object(obj{"id": integer(), "url": str(), "events": arr(str()), "active": boolean(), "created_by": str(), "created_at": when(),
			"delivered": integer(), "failed": integer()}),
		"WebhookList": object(obj{"items": arr(ref("Webhook"))}, "items"),
		"NewWebhook":  object(obj{"url": str(), "secret": obj{"type": "string", "description": "sealed at rest, never returned"}, "events": arr(str())}, "url", "secret", "events"),
		"WebhookDeliveries": object(obj{"items": arr(object(obj{"id": integer(), "event": str(), "summary": str(), "status": enum("queued", "delivered", "failed"),
			"attempts": integer(), "response_status": integer(), "error": str(), "created_at": when(), "delivered_at": obj{"type": []string{"string", "null"}}}))}, "items"),
		"RepoHook":     object(obj{"secret": str()}, "secret"),
		"RepoHookURL":  object(obj{"url": str()}),
		"PushEvent":    object(obj{"ref": str(), "after": str()}),
		"PushAccepted": object(obj{"snapshot": integer(), "ref": str()}),
		"AlertList":    object(obj{"items": arr(ref("Alert"))}, "items"),
		"AlertStatus":  object(obj{"status": enum("open", "acknowledged", "resolved")}, "status"),
		"AlertRoute": object(obj{"id": integer(), "kind": str(), "min_severity": enum("info", "warning", "critical"), "channel": enum("email", "webhook"),
			"target":     obj{"type": "string", "description": "on input the address or webhook URL (sealed at rest); on output the address, or the webhook's host only"},
			"created_by": str(), "created_at": when()}),
		"AlertRouteList": object(obj{"items": arr(ref("AlertRoute"))}, "items"),
		"SnapshotList":   object(obj{"items": arr(ref("Snapshot"))}, "items"),
		"CompareRequest": object(obj{"a": integer(), "b": integer()}, "a", "b"),
		"ComparisonList": object(obj{"items": arr(object(obj{"id": integer(), "a": integer(), "b": integer(), "a_name": str(), "b_name": str(), "new": integer(),
			"changed": integer(), "deleted": integer(), "unchanged": integer(), "created_by": str(), "created_at": when()}))}, "items"),
		"Comparison": object(obj{"id": integer(), "a": ref("Snapshot"), "b": ref("Snapshot"),
			"types":  arr(object(obj{"type": str(), "new": integer(), "changed": integer(), "deleted": integer(), "unchanged": integer()})),
			"totals": object(obj{"new": integer(), "changed": integer(), "deleted": integer(), "unchanged": integer()}),
			"items":  arr(object(obj{"type": str(), "name": str(), "change": enum("new", "changed", "deleted", "unchanged"), "hash_a": str(), "hash_b": str()}))}),
		"ComponentDiff": object(obj{"type": str(), "name": str(), "a": str(), "b": str(), "diff": str()}),
		"CapturedList": object(obj{"items": arr(object(obj{"id": integer(), "work_item": str(), "type": str(), "name": str(), "change": enum("new", "changed", "deleted"),
			"hash": str(), "base_hash": str(), "from_snapshot": nint(), "to_snapshot": nint(), "dependency_of": str(), "captured_by": str(), "captured_at": when(),
			"superseded_at": obj{"type": []string{"string", "null"}}}))}, "items"),
		"AddDependencies": object(obj{"org_id": integer(), "components": arr(object(obj{"type": str(), "name": str()}, "type", "name"))}, "org_id", "components"),
		"AddedDependencies": object(obj{"added": arr(object(obj{
			"reference": object(obj{"from": object(obj{"type": str(), "name": str()}), "to": object(obj{"type": str(), "name": str()}), "where": str()}),
			"work_item": str(), "from_snapshot": integer(), "snapshot": integer(), "added": boolean()}))}),
		"CaptureRequest": object(obj{"a": integer(), "b": integer(), "components": arr(object(obj{"type": str(), "name": str()}, "type", "name")),
			"with_dependencies": boolean()}, "a", "b", "components"),
		"BranchStatus": object(obj{"name": str(), "base": str(), "repository": str(), "behind": integer(),
			"ahead":   arr(object(obj{"hash": str(), "author": str(), "when": str(), "subject": str()})),
			"changes": arr(object(obj{"type": str(), "name": str(), "change": str()}))}),
		"WorkBranch": object(obj{"name": str(), "base": str()}),
		"Graph": object(obj{"root": str(), "nodes": arr(object(obj{"id": str(), "column": integer(), "label": str(), "detail": str(), "status": str(), "href": str()})),
			"edges": arr(object(obj{"from": str(), "to": str()}))}, "root", "nodes", "edges"),
		"PromoteBranch": object(obj{"stage": str()}),
		"Inbox":         object(obj{"items": arr(object(obj{"kind": str(), "title": str(), "detail": str(), "href": str(), "project": str(), "since": when()}))}, "items"),
		"SandboxChanges": object(obj{"snapshot": integer(), "changes": arr(object(obj{"type": str(), "name": str(), "change": enum("new", "changed", "deleted"),
			"last_modified_by": str(), "last_modified_at": str()}))}),
		"CommitChanges": object(obj{"snapshot_id": integer(), "components": arr(str()), "deletions": arr(str())}, "snapshot_id"),
		"Commit":        object(obj{"commit": str(), "components": integer(), "deletions": integer()}),
		"Conflicts": object(obj{"promotion": ref("Promotion"), "files": arr(object(obj{"path": str(), "elements": arr(str()), "resolution": str(),
			"hunks": arr(object(obj{"label": str(), "ours": str(), "theirs": str()}))}))}),
		"Resolve":    object(obj{"choices": obj{"type": "object"}}, "choices"),
		"PushQueued": object(obj{"promotion": integer(), "git_state": str()}),
		"StagesGit": object(obj{"stages": arr(object(obj{"stage": str(), "branch": str(), "head": str(), "deployed": str(), "ahead_of_org": boolean(),
			"commits_ahead": integer(), "components": arr(object(obj{"type": str(), "name": str(), "change": str()})), "error": str()}))}),
		"RepoHost": object(obj{"host": enum("", "none", "github", "gitlab", "bitbucket", "azure"), "host_api": str()}),
		"TrackerConnection": object(obj{"id": integer(), "project_id": integer(), "kind": enum("jira_cloud", "jira_dc", "azure_devops", "github"), "base_url": str(), "scope": str(),
			"username": str(), "import_as": enum("work_item", "requirement"), "status": enum("ok", "error"), "error": str(), "checked_at": when(), "created_at": when(), "updated_at": when()}),
		"StatusMapping": object(obj{"entity": enum("work_item", "requirement"), "remote": str(), "local": str()}, "entity", "remote", "local"),
		"Tracker":       object(obj{"connection": ref("TrackerConnection"), "mapping": arr(ref("StatusMapping")), "webhook_url": str(), "webhook_secret": str()}, "connection", "mapping", "webhook_url"),
		"TrackerInput": object(obj{"kind": enum("jira_cloud", "jira_dc", "azure_devops", "github"), "base_url": str(), "scope": str(), "username": str(), "token": str(),
			"import_as": enum("work_item", "requirement"), "new_secret": boolean()}, "kind", "base_url", "scope"),
		"TrackerMapping":  object(obj{"mapping": arr(ref("StatusMapping"))}, "mapping"),
		"TrackerImport":   object(obj{"keys": arr(str())}, "keys"),
		"TrackerImported": object(obj{"keys": arr(str())}, "keys"),
		"TrackerLink": object(obj{"id": integer(), "connection_id": integer(), "project_id": integer(), "tracker": str(), "entity_type": enum("work_item", "requirement"),
			"entity_id": integer(), "entity_key": str(), "entity_title": str(), "remote_key": str(), "remote_url": str(), "remote_status": str(),
			"state": enum("ok", "warning", "error", "deleted"), "error": str(), "synced_at": when(), "created_at": when()}),
		"TrackerLinkList":     object(obj{"items": arr(ref("TrackerLink"))}, "items"),
		"TrackerLinkInput":    object(obj{"key": str()}, "key"),
		"TrackerHookAccepted": object(obj{"queued": integer()}, "queued"),
		"ProjectGit":          object(obj{"repository_id": nint(), "repository_name": str(), "default_branch": str(), "branching": str(), "back_propagate": boolean()}),
		"Pipeline": object(obj{"stages": arr(object(obj{"id": integer(), "position": integer(), "name": str(), "org_id": nint(), "org_name": str(), "branch": str(),
			"approvals_required": integer(), "approver_roles": arr(str()), "no_self_approval": boolean(), "validation_required": boolean(),
			"test_level": enum("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"), "coverage_threshold": integer(),
			"change_windows": str(), "frozen": boolean(), "freeze_reason": str(), "block_checks": enum("", "error", "warning")}, "name"))}, "stages"),
		"Repository": object(obj{"id": integer(), "name": str(), "url": str(), "auth": enum("none", "token", "ssh"), "default_branch": str(),
			"last_fetched_at": obj{"type": []string{"string", "null"}}, "last_error": str(), "created_at": when(), "host": str(), "host_api": str()}),
		"RepositoryList": object(obj{"items": arr(ref("Repository"))}, "items"),
		"ConnectRepository": object(obj{"name": str(), "url": str(), "auth": enum("none", "token", "ssh"), "secret": obj{"type": "string", "description": "token or SSH key; sealed, never returned"},
			"branch": str()}, "name", "url"),
		"Build": object(obj{"id": integer(), "release_id": integer(), "number": integer(), "api_version": str(), "checksum": str(), "components": integer(),
			"deletes": integer(), "size": integer(), "created_by": str(), "created_at": when(), "work_item": str()}),
		"BuildList":    object(obj{"items": arr(ref("Build"))}, "items"),
		"BuildRequest": object(obj{"api_version": str(), "resolutions": obj{"type": "object", "additionalProperties": str()}}),
		"BuildDetail":  object(obj{"build": ref("Build"), "components": arr(object(obj{"type": str(), "name": str(), "change": str(), "hash": str(), "work_item": str()}))}),
		"Validation": object(obj{"id": integer(), "build_id": integer(), "build_number": integer(), "org_id": integer(), "org_name": str(), "test_level": str(),
			"status": enum("queued", "running", "succeeded", "failed", "error"), "deploy_id": str(),
			"result": ref("DeployResult"),
			"error":  str(), "started_by": str(), "started_at": when(), "finished_at": obj{"type": []string{"string", "null"}}}),
		"ValidationList":  object(obj{"items": arr(ref("Validation"))}, "items"),
		"ValidateRequest": object(obj{"org_id": integer(), "test_level": str()}, "org_id"),
		"TestRun": object(obj{"id": integer(), "org_id": integer(), "classes": arr(str()), "suites": arr(str()), "test_level": str(),
			"status": enum("queued", "running", "passed", "failed", "error"), "passed": integer(), "failed": integer(),
			"results": arr(object(obj{"class": str(), "method": str(), "outcome": str(), "message": str(), "stack": str(), "ms": integer()})),
			"error":   str(), "started_by": str(), "started_at": when(), "finished_at": obj{"type": []string{"string", "null"}}}),
		"TestRunList":    object(obj{"items": arr(ref("TestRun"))}, "items"),
		"TestRunRequest": object(obj{"classes": arr(str()), "suites": arr(str()), "local_tests": boolean()}),
		"Announcements":  object(obj{"emails": arr(str()), "webhooks": arr(str())}),
		"DeployResult": object(obj{"components": integer(), "tests": integer(),
			"component_errors": arr(object(obj{"where": str(), "line": integer(), "message": str(), "stack": str()})),
			"test_failures":    arr(object(obj{"where": str(), "line": integer(), "message": str(), "stack": str()})),
			"coverage":         arr(object(obj{"name": str(), "percent": integer(), "lines": integer(), "uncovered": integer()})),
			"notes":            arr(str())}),
		"Promotion": object(obj{"id": integer(), "project_id": integer(), "project": str(), "build_id": integer(), "build_number": integer(), "checksum": str(),
			"release_id": nint(), "release_name": str(), "work_item": str(), "stage_position": integer(), "stage": str(), "org_id": integer(), "org_name": str(),
			"status": enum("open", "deploying", "deployed", "failed", "canceled", "rejected", "abandoned", "rolled_back"), "reason": str(),
			"created_by": str(), "created_at": when(), "updated_at": when(), "revision": integer(),
			"git": object(obj{"into": str(), "from": str(), "base": str(), "commit": str(), "state": enum("conflicts", "merged", "pushing", "pushed", "push_failed"),
				"message": str(), "pr_url": str(), "pr_number": integer()})}),
		"PromotionList": object(obj{"items": arr(ref("Promotion"))}, "items"),
		"OpenPromotion": object(obj{"build_id": integer(), "stage": str()}, "build_id"),
		"PromotionAct":  object(obj{"note": str(), "reason": str(), "body": str(), "override": boolean(), "work_item": str(), "decision": enum("signed_off", "returned"), "components": arr(str())}),
		"Deployment": object(obj{"id": integer(), "promotion_id": nint(), "org_id": integer(), "org_name": str(), "build_id": nint(),
			"kind": enum("deploy", "quick_deploy", "rollback", "restore"), "rollback_of": nint(), "restore_of": nint(), "test_level": str(),
			"status": enum("queued", "snapshotting", "deploying", "succeeded", "failed", "canceled"), "phase": str(), "done": integer(), "total": integer(),
			"checksum": str(), "validation_id": nint(), "deploy_id": str(), "cancel_requested": boolean(), "result": ref("DeployResult"), "error": str(),
			"override": str(), "started_by": str(), "started_at": when(), "submitted_at": obj{"type": []string{"string", "null"}}, "finished_at": obj{"type": []string{"string", "null"}}}),
		"DeploymentComponent": object(obj{"type": str(), "name": str(), "change": str(), "hash": str(), "previous_hash": str(), "existed": obj{"type": []string{"boolean", "null"}}, "work_item": str()}),
		"DeploymentDetail":    object(obj{"deployment": ref("Deployment"), "components": arr(ref("DeploymentComponent"))}),
		"PromotionDetail": object(obj{"promotion": ref("Promotion"), "ready": boolean(), "actions": arr(str()),
			"gates": arr(object(obj{"name": str(), "ok": boolean(), "detail": str(), "overridable": boolean()})),
			"decisions": arr(object(obj{"id": integer(), "build_id": integer(), "user_id": integer(), "user": str(), "role": str(), "decision": enum("approved", "rejected"),
				"note": str(), "created_at": when(), "expires_at": when(), "reset_at": obj{"type": []string{"string", "null"}}})),
			"comments":    arr(object(obj{"id": integer(), "user": str(), "body": str(), "created_at": when()})),
			"signoffs":    arr(object(obj{"id": integer(), "work_item": str(), "decision": str(), "note": str(), "user": str(), "created_at": when()})),
			"deployments": arr(ref("Deployment")), "validation": obj{"oneOf": []any{ref("Validation"), obj{"type": "null"}}},
			"work_items": arr(str()), "changes": arr(object(obj{"type": str(), "name": str(), "work_item": str(), "change": enum("new", "changed", "unchanged", "delete", "absent")}))}),
		"ComponentHistory": object(obj{"type": str(), "name": str(), "items": arr(object(obj{"deployment_id": integer(), "kind": str(), "status": str(), "change": str(),
			"hash": str(), "previous_hash": str(), "build_id": nint(), "build_number": integer(), "release_name": str(), "promotion_id": nint(), "stage": str(),
			"work_items": arr(str()), "requirements": arr(str()), "by": str(), "at": when(), "finished_at": obj{"type": []string{"string", "null"}}}))}),
		"SearchResults": object(obj{"items": arr(object(obj{"kind": enum("requirement", "work_item"), "key": str(), "title": str(), "status": str(), "project": str(), "rank": obj{"type": "number"}}))}),
	}
}

func errResp(desc string) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
}

// OpenAPI returns the API's OpenAPI 3.1 description.
func OpenAPI() obj {
	paths := obj{}
	for _, op := range apiOps {
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		var params []obj
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				schema := str()
				if name == "id" || name == "comment" {
					schema = integer()
				}
				params = append(params, obj{"name": name, "in": "path", "required": true, "schema": schema})
			}
		}
		for _, q := range op.query {
			p := obj{"name": q, "in": "query"}
			for k, v := range queryDocs[q] {
				p[k] = v
			}
			params = append(params, p)
		}
		ok := obj{"description": http.StatusText(op.status)}
		if op.resp != "" {
			ok["content"] = obj{"application/json": obj{"schema": ref(op.resp)}}
		}
		responses := obj{strconv.Itoa(op.status): ok}
		if op.perm != "public" {
			responses["401"] = errResp("Not signed in: send Authorization: Bearer <token>")
			responses["403"] = errResp("Your role (in the project, for project routes) lacks " + strings.TrimPrefix(op.perm, "project:"))
		}
		if strings.Contains(op.path, "{") {
			responses["404"] = errResp("No such project or record")
		}
		if op.body != "" || len(op.query) > 0 {
			responses["422"] = errResp("Invalid input; fields says which")
		}
		if op.method == "PATCH" {
			responses["409"] = errResp("Changed since you read it: nothing was overwritten")
		}
		o := obj{"summary": op.summary, "operationId": operationID(op), "responses": responses, "x-trellis-permission": op.perm}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(op.body)}}}
		}
		if op.perm == "public" {
			o["security"] = []obj{}
		}
		item[strings.ToLower(op.method)] = o
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Trellis API", "version": "1",
			"description": "Plan, build and release Salesforce changes. Authenticate with a personal API token (Account → API tokens) as a bearer token. Errors are JSON: {error: {code, message, fields}, request_id}."},
		"servers":    []obj{{"url": "/"}},
		"security":   []obj{{"bearer": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas(), "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
}

func operationID(op apiOp) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, seg := range strings.Split(strings.TrimPrefix(op.path, "/api/v1/"), "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

var openAPIOnce = sync.OnceValue(OpenAPI)

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	s.writeJSON(w, http.StatusOK, openAPIOnce())
}
