// Package store is Trellis's Postgres access: one file per aggregate, plain
// SQL with explicit columns and $n arguments, no ORM.
//
// Public methods own their transaction and call unexported helpers that take
// a pgx.Tx, so helpers compose: an audit row, a River job insert and the
// change that caused them commit or roll back together. Not-found is an
// *alm.Error with CodeNotFound, never a nil result.
package store
