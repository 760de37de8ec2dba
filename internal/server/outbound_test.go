package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/outbound"
)

// TestOutboundAddressesObeyThePolicy: under the production default
// (public addresses only) every address a user types for Trellis to reach
// — a webhook, an alert route, an announcement hook, a repository — is
// refused when it is loopback, link-local (cloud metadata) or private, and
// file:// repositories are refused; the message says what to do.
func TestOutboundAddressesObeyThePolicy(t *testing.T) {
	t.Parallel()
	public := outbound.Policy{}
	b := setup(t, setupOpts{Develop: true, Outbound: &public})
	seedPlan(t, b)
	tok := b.token(b.user(alm.RoleAdmin, "admin2@example.com"))
	for _, c := range []struct {
		name, method, path, body, field, says string
	}{
		{"WebhookLoopback", "POST", "/api/v1/webhooks", `{"url":"http://127.0.0.1:9/hook","secret":"0123456789abcdef0","events":["*"]}`, "url", "loopback"},
		{"WebhookMetadata", "POST", "/api/v1/webhooks", `{"url":"http://169.254.169.254/latest/meta-data/","secret":"0123456789abcdef0","events":["*"]}`, "url", "link-local"},
		{"AlertRoutePrivate", "POST", "/api/v1/alert-routes", `{"kind":"*","min_severity":"info","channel":"webhook","target":"http://10.0.0.7/hook"}`, "target", "private"},
		{"AnnouncementLocalhost", "PUT", "/api/v1/projects/CRM/announcements", `{"emails":[],"webhooks":["http://localhost:8080/x"]}`, "webhooks", "loopback"},
		{"RepositoryFile", "POST", "/api/v1/repositories", `{"name":"crm","url":"file:///etc"}`, "url", "TRELLIS_OUTBOUND_ALLOW=file"},
		{"RepositorySSHLoopback", "POST", "/api/v1/repositories", `{"name":"crm","url":"ssh://git@[::1]/org/repo.git"}`, "url", "loopback"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := b.api(c.method, c.path, tok, strings.NewReader(c.body))
			require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
			require.Contains(t, res.body, `"`+c.field+`"`)
			require.Contains(t, res.body, c.says)
			require.Contains(t, res.body, "TRELLIS_OUTBOUND_ALLOW")
		})
	}
}
