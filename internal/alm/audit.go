package alm

import (
	"context"
	"time"
)

// AuditEntry is one row of the append-only audit log: who did what to which
// target, when, with a short summary of the change.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    *int64 // nil for the system or an anonymous caller
	ActorLabel string // the actor's email or "system", kept even if the user goes
	Action     string // dotted verb, e.g. "user.create", "session.login_failed"
	TargetType string // e.g. "user", "api_token"
	TargetID   string
	Summary    string
	RequestID  string
	IP         string
}

// Actor identifies who is acting in a request or job, for the audit log.
type Actor struct {
	UserID    *int64
	Label     string
	RequestID string
	IP        string
}

// SystemActor is the actor for work that no person started.
var SystemActor = Actor{Label: "system"}

type actorKey struct{}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, or SystemActor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}

// Audit returns an entry for action on target, attributed to ctx's actor.
func Audit(ctx context.Context, action, targetType, targetID, summary string) AuditEntry {
	a := ActorFrom(ctx)
	return AuditEntry{
		ActorID:    a.UserID,
		ActorLabel: a.Label,
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		Summary:    summary,
		RequestID:  a.RequestID,
		IP:         a.IP,
	}
}
