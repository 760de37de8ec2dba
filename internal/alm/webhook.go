package alm

import (
	"strings"
	"time"
)

// WebhookTopics are what a webhook can subscribe to; an event's kind
// starts with its topic (work_item.status, promotion.deploy.succeeded,
// deployment.failed, alert.created…).
var WebhookTopics = []string{"requirement", "work_item", "release", "promotion", "deployment", "alert"}

// Webhook is an endpoint Trellis sends events to.
type Webhook struct {
	ID        int64     `json:"id"`
	URLHint   string    `json:"url"` // the host only: the path is often a secret
	Events    []string  `json:"events"`
	Active    bool      `json:"active"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Delivered int       `json:"delivered"`
	Failed    int       `json:"failed"`
}

// WebhookWants reports whether a subscription (topics, or "*") takes an
// event kind.
func WebhookWants(topics []string, kind string) bool {
	for _, t := range topics {
		if t == "*" || kind == t || strings.HasPrefix(kind, t+".") {
			return true
		}
	}
	return false
}

// WebhookEvent is one change, as a webhook payload reports it.
type WebhookEvent struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"event"`
	Project    string    `json:"project,omitempty"`
	EntityType string    `json:"entity_type"`
	EntityID   int64     `json:"entity_id"`
	Summary    string    `json:"summary"`
	At         time.Time `json:"at"`
}

// WebhookDelivery is one attempt history of sending an event.
type WebhookDelivery struct {
	ID             int64      `json:"id"`
	Event          string     `json:"event"`
	Summary        string     `json:"summary"`
	Status         string     `json:"status"` // queued, delivered, failed
	Attempts       int        `json:"attempts"`
	ResponseStatus int        `json:"response_status"`
	Error          string     `json:"error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}
