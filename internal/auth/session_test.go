package auth

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestShortIdleTimeoutKeepsAnActiveUser: with an idle timeout as short as
// a minute, a user active every 30 seconds stays signed in, and one idle
// for longer than the timeout is signed out.
func TestShortIdleTimeoutKeepsAnActiveUser(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	st := store.New(testdb.New(t), c.now)
	cfg := DefaultConfig()
	cfg.IdleTimeout = time.Minute
	svc := NewService(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, alm.NewUser{Email: "ana@example.com", Name: "Ana", Role: alm.RoleDeveloper, Password: "correct horse battery"}, false)
	if err != nil {
		t.Fatal(err)
	}
	value, _, err := svc.StartSession(ctx, u, "password", "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		c.advance(30 * time.Second)
		if _, err := svc.SessionCaller(ctx, value); err != nil {
			t.Fatalf("active user signed out after %v: %v", time.Duration(i+1)*30*time.Second, err)
		}
	}
	c.advance(61 * time.Second)
	if _, err := svc.SessionCaller(ctx, value); err == nil {
		t.Fatal("a session idle past the timeout must end")
	}
}
