package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
	"github.com/trellis-alm/trellis/migrations"
)

func TestMigrations(t *testing.T) {
	t.Parallel()

	t.Run("UpDownUpRoundTrips", func(t *testing.T) {
		t.Parallel()
		url := testdb.NewEmptyURL(t)
		mg, err := store.NewMigrator(url, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		defer mg.Close()

		st, err := mg.Status()
		require.NoError(t, err)
		require.Equal(t, uint(0), st.Version)
		require.False(t, st.Current())

		require.NoError(t, mg.Up())
		st, err = mg.Status()
		require.NoError(t, err)
		require.Equal(t, migrations.Latest(), st.Version)
		require.True(t, st.Current())

		require.NoError(t, mg.Down(int(migrations.Latest())))
		st, err = mg.Status()
		require.NoError(t, err)
		require.Equal(t, uint(0), st.Version)

		require.NoError(t, mg.Up())
		st, err = mg.Status()
		require.NoError(t, err)
		require.True(t, st.Current())
	})

	t.Run("SchemaStatusThroughPool", func(t *testing.T) {
		t.Parallel()
		s := store.New(testdb.New(t), nil)
		st, err := s.SchemaStatus(context.Background())
		require.NoError(t, err)
		require.True(t, st.Current(), "template database should be fully migrated: %+v", st)
	})

	t.Run("SchemaStatusOfEmptyDatabase", func(t *testing.T) {
		t.Parallel()
		pool, err := store.OpenPool(context.Background(), testdb.NewEmptyURL(t))
		require.NoError(t, err)
		defer pool.Close()
		st, err := store.New(pool, nil).SchemaStatus(context.Background())
		require.NoError(t, err)
		require.Equal(t, uint(0), st.Version)
	})

	t.Run("RiverSeesItsMigrationsApplied", func(t *testing.T) {
		t.Parallel()
		pool := testdb.New(t)
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM river_migration WHERE line = 'main'`).Scan(&n))
		require.Equal(t, 8, n)
	})

	// Replicas started together each migrate: the one that waits for the
	// lock must not mistake the other's migration in progress for a failed one.
	t.Run("ConcurrentMigratorsBothSucceed", func(t *testing.T) {
		t.Parallel()
		url := testdb.NewEmptyURL(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				mg, err := store.NewMigrator(url, slog.New(slog.DiscardHandler))
				if err != nil {
					errs <- err
					return
				}
				defer mg.Close()
				errs <- mg.Up()
			}()
		}
		for range 4 {
			require.NoError(t, <-errs)
		}
	})

	t.Run("DirtySchemaSaysSo", func(t *testing.T) {
		t.Parallel()
		url := testdb.NewURL(t)
		pool, err := store.OpenPool(context.Background(), url)
		require.NoError(t, err)
		defer pool.Close()
		_, err = pool.Exec(context.Background(), `UPDATE schema_migrations SET version = version - 1, dirty = true`)
		require.NoError(t, err)
		mg, err := store.NewMigrator(url, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		defer mg.Close()
		require.ErrorContains(t, mg.Up(), "dirty at version")
	})

	t.Run("DownRefusesZeroSteps", func(t *testing.T) {
		t.Parallel()
		mg, err := store.NewMigrator(testdb.NewURL(t), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		defer mg.Close()
		require.Error(t, mg.Down(0))
	})
}
