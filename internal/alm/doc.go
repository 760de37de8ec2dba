// Package alm holds the application-lifecycle domain of Trellis: the
// records of the lifecycle and the rules that govern them, the roles and
// what each may do, the coded error every layer returns, and the audit
// entry that records every change.
//
// One file per aggregate, named after it: project, requirement (with its
// status rules and spec versions), discussion, workitem (and its board
// moves), release (and its notes), pipeline (stages and their policy),
// promotion (states and actions), approval (the gates a promotion passes),
// deployment, org, repository, snapshot, build, validation, backup, alert,
// drift, databackup, regression, feedback, dora; lineage, trace and board
// hold the read models those pages show.
//
// The package imports only the standard library so that every other layer
// can depend on it and it on nothing.
package alm
