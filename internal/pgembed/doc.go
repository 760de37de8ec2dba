// Package pgembed runs a private PostgreSQL cluster from the server binaries
// installed on the machine, so Trellis needs no database setup by default.
//
// The cluster lives in the Trellis data directory, listens only on a unix
// socket in a private directory (no TCP port) and trusts local connections,
// which is safe because only the owner can reach that socket.
//
// One process owns a running cluster at a time, marked by an flock on a lock
// file next to it. Other Trellis processes on the same data directory (the
// `admin` and `migrate` subcommands while `serve` runs, say) attach to the
// running server as guests instead of starting a second one. A crash leaves
// no lock behind (the kernel drops it), and a stale postmaster.pid is cleared
// by the next owner.
//
// Run as root, the server runs as an unprivileged system user (postgres
// refuses root), and the child dies with its parent through Pdeathsig.
package pgembed
