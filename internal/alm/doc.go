// Package alm holds the application-lifecycle domain of Trellis: users and
// their roles, what each role may do, the coded error every layer returns,
// and the audit entry that records every change. Later the lifecycle's own
// records (requirement, work item, release, promotion, deployment, org,
// stage) live here too.
//
// The package imports only the standard library so that every other layer
// can depend on it and it on nothing.
package alm
