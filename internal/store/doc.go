// Package store is Trellis's Postgres access: one file per aggregate, plain
// SQL with explicit columns and $n arguments, no ORM.
//
// Files are named after the aggregate they hold (project, requirement,
// workitem, release, promotion, deployment, org, snapshot, backup, alert,
// databackup, regression, webhook…); store.go holds the shared helpers and
// page.go the cursor paging and filter building every list uses.
//
// Public methods own their transaction and call unexported helpers that take
// a pgx.Tx, so helpers compose: an audit row, a River job insert and the
// change that caused them commit or roll back together. Not-found is an
// *alm.Error with CodeNotFound, never a nil result.
package store
