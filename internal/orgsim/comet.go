package orgsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The Streaming API: Bayeux (CometD) over long polling at
// /cometd/<version>. The Salesforce CLI subscribes to
// /systemTopic/TestResult while it waits for a test run, and each run that
// finishes is announced there with its AsyncApexJob id.

const (
	testResultTopic = "/systemTopic/TestResult"
	// cometHold is how long a connect waits for an event before it answers
	// empty (Salesforce holds 110 s; shorter keeps shutdowns quick).
	cometHold = 10 * time.Second
)

// cometClient is one handshaken streaming client. o.mu guards it.
type cometClient struct {
	subs     map[string]bool
	told     map[string]bool // test runs already announced
	since    time.Time       // runs ending before the handshake are not news
	lastSeen time.Time
}

var cometAdvice = map[string]any{"timeout": 110000, "interval": 0, "reconnect": "retry"}

func (o *Org) comet(w http.ResponseWriter, r *http.Request) {
	v, ok := versionOK(chi.URLParam(r, "version"))
	if !ok || v < minVersion || v > maxVersion {
		http.Error(w, "unsupported version", http.StatusNotFound)
		return
	}
	if !o.bearer(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable request", http.StatusBadRequest)
		return
	}
	var msgs []map[string]any
	if err := json.Unmarshal(body, &msgs); err != nil {
		// A single message may come bare.
		var one map[string]any
		if json.Unmarshal(body, &one) != nil {
			writeJSON(w, http.StatusBadRequest, []map[string]any{{"successful": false, "error": "400::Bad request: not Bayeux JSON"}})
			return
		}
		msgs = []map[string]any{one}
	}
	var out []map[string]any
	for _, m := range msgs {
		out = append(out, o.cometMessage(r, m)...)
	}
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) cometMessage(r *http.Request, m map[string]any) []map[string]any {
	channel, _ := m["channel"].(string)
	id := m["id"]
	clientID, _ := m["clientId"].(string)
	reply := map[string]any{"channel": channel, "id": id}
	unknown := func() []map[string]any {
		reply["successful"], reply["error"] = false, "403::Unknown client"
		reply["advice"] = map[string]any{"reconnect": "handshake", "interval": 0}
		return []map[string]any{reply}
	}
	switch channel {
	case "/meta/handshake":
		o.mu.Lock()
		if o.streams == nil {
			o.streams = map[string]*cometClient{}
		}
		for k, c := range o.streams { // forget clients gone quiet
			if time.Since(c.lastSeen) > 10*time.Minute {
				delete(o.streams, k)
			}
		}
		clientID = secret(24)
		o.streams[clientID] = &cometClient{subs: map[string]bool{}, told: map[string]bool{}, since: time.Now(), lastSeen: time.Now()}
		o.mu.Unlock()
		reply["successful"], reply["clientId"], reply["version"], reply["minimumVersion"] = true, clientID, "1.0", "1.0"
		reply["supportedConnectionTypes"], reply["advice"] = []string{"long-polling"}, cometAdvice
		return []map[string]any{reply}
	case "/meta/subscribe", "/meta/unsubscribe":
		sub, _ := m["subscription"].(string)
		reply["clientId"], reply["subscription"] = clientID, sub
		o.mu.Lock()
		c := o.streams[clientID]
		if c != nil {
			c.lastSeen = time.Now()
		}
		o.mu.Unlock()
		if c == nil {
			return unknown()
		}
		if sub != testResultTopic {
			reply["successful"], reply["error"] = false, "400::The channel you requested to subscribe to does not exist {"+sub+"}"
			return []map[string]any{reply}
		}
		o.mu.Lock()
		c.subs[sub] = channel == "/meta/subscribe"
		o.mu.Unlock()
		reply["successful"] = true
		return []map[string]any{reply}
	case "/meta/connect":
		reply["clientId"] = clientID
		deadline := time.Now().Add(cometHold)
		for {
			o.mu.Lock()
			c := o.streams[clientID]
			var events []map[string]any
			if c != nil {
				c.lastSeen = time.Now()
				events = o.testEventsLocked(c)
			}
			o.mu.Unlock()
			if c == nil {
				return unknown()
			}
			if len(events) > 0 || time.Now().After(deadline) || r.Context().Err() != nil {
				reply["successful"], reply["advice"] = true, cometAdvice
				return append(events, reply)
			}
			select {
			case <-r.Context().Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	case "/meta/disconnect":
		o.mu.Lock()
		delete(o.streams, clientID)
		o.mu.Unlock()
		reply["clientId"], reply["successful"] = clientID, true
		return []map[string]any{reply}
	}
	reply["successful"], reply["error"] = false, "400::Unknown channel "+channel
	return []map[string]any{reply}
}

// testEventsLocked announces the test runs that finished since the client
// last heard, if it listens to the test result topic. o.mu is held.
func (o *Org) testEventsLocked(c *cometClient) []map[string]any {
	if !c.subs[testResultTopic] {
		return nil
	}
	var out []map[string]any
	now := time.Now()
	for _, t := range o.sortedRuns() {
		end := t.end()
		if c.told[t.id] || end.After(now) || end.Before(c.since) {
			continue
		}
		c.told[t.id] = true
		out = append(out, map[string]any{"channel": testResultTopic, "data": map[string]any{
			"event":   map[string]any{"createdDate": sfTime(end), "type": "updated"},
			"sobject": map[string]any{"Id": strings.TrimSpace(t.id)},
		}})
	}
	return out
}
