package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) {
	code := testdb.Run(m)
	blobtest.StopShared()
	os.Exit(code)
}

// testBundle is what every store test starts from.
type testBundle struct {
	ctx   context.Context
	store *store.Store
	clock *clock
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)} }
func actorCtx(label string) context.Context {
	return alm.WithActor(context.Background(), alm.Actor{Label: label, RequestID: "req-1", IP: "192.0.2.1"})
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	c := newClock()
	return &testBundle{ctx: actorCtx("tester@example.com"), store: store.New(testdb.New(t), c.now), clock: c}
}

// userOpts fills defaults for a test user; set only what the test cares about.
type userOpts struct {
	Email string
	Role  alm.Role
}

func (b *testBundle) user(t *testing.T, o userOpts) alm.User {
	t.Helper()
	if o.Email == "" {
		o.Email = "user" + time.Now().Format("150405.000000000") + "@example.com"
	}
	if o.Role == "" {
		o.Role = alm.RoleDeveloper
	}
	u, err := b.store.CreateUser(b.ctx, alm.NewUser{Email: o.Email, Name: "Test User", Role: o.Role}, "hash", false)
	require.NoError(t, err)
	return u
}
