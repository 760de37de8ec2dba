package main

import (
	"log/slog"
	"testing"

	"github.com/trellis-alm/trellis/internal/testdb"
)

// TestReplicasMigrateTogether starts the migration of eight replicas on one
// empty database at once: those that wait for the lock see the schema
// marked dirty while another migrates, and must not take it for a failure.
func TestReplicasMigrateTogether(t *testing.T) {
	t.Parallel()
	url := testdb.NewEmptyURL(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- migrateUp(url, slog.New(slog.DiscardHandler)) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
