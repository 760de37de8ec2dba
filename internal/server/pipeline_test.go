package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

func TestPipelineForm(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	rm := b.signedIn(b.user(alm.RoleReleaseManager, "rm@example.com"))
	dev := b.signedIn(b.user(alm.RoleDeveloper, "dev@example.com"))
	sd := seedPlan(t, b)
	_ = sd

	page := rm.get("/projects/CRM/pipeline")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.doc(t).Find(`[data-testid="empty-state"]`).Text(), "No pipeline yet")
	edit := rm.get("/projects/CRM/pipeline/edit").doc(t)
	require.Equal(t, 3, edit.Find(`fieldset.stage-edit`).Length(), "a three-stage start")

	form := url.Values{"stages": {"2"},
		"stage_0_name": {"Integration"}, "stage_0_approvals_required": {"0"}, "stage_0_test_level": {"RunLocalTests"}, "stage_0_coverage_threshold": {"75"},
		"stage_1_name": {"Production"}, "stage_1_approvals_required": {"2"}, "stage_1_test_level": {"RunLocalTests"}, "stage_1_coverage_threshold": {"80"},
		"stage_1_change_windows": {"weekends"}, "stage_1_validation_required": {"on"}, "stage_1_no_self_approval": {"on"}}
	form.Set("action", "add")
	res := rm.post("/projects/CRM/pipeline", form)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, 3, res.doc(t).Find(`fieldset.stage-edit`).Length(), "Add a stage adds a row and keeps the others")

	form.Set("action", "save")
	res = rm.post("/projects/CRM/pipeline", form)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	doc := res.doc(t)
	require.Contains(t, doc.Find(`[data-testid="error-stages.1.change_windows"]`).Text(), "Mon-Fri 18:00-22:00")
	require.Contains(t, doc.Text(), "Say which roles may approve.")
	v, _ := doc.Find(`input[name="stage_1_name"]`).Attr("value")
	require.Equal(t, "Production", v, "the form keeps what was typed")

	form.Set("stage_1_change_windows", "Mon-Fri 18:00-22:00; Sat 08:00-12:00")
	form["stage_1_approver_roles"] = []string{"release_manager", "product_owner"}
	res = rm.post("/projects/CRM/pipeline", form)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	pipe := rm.get("/projects/CRM/pipeline").doc(t).Find(`[data-testid="pipeline"]`).Text()
	require.Contains(t, pipe, "2 approvals from release manager or product owner")
	require.Contains(t, pipe, "coverage ≥ 80%")
	require.True(t, strings.Index(pipe, "Integration") < strings.Index(pipe, "Production"))

	res = dev.post("/projects/CRM/pipeline", form)
	require.Equal(t, http.StatusForbidden, res.status, "developers do not change the pipeline")

	tok := b.token(b.user(alm.RoleAdmin, "admin2@example.com"))
	api := b.api("PUT", "/api/v1/projects/CRM/pipeline", tok, strings.NewReader(`{"stages":[{"name":"UAT","test_level":"RunLocalTests","coverage_threshold":75},{"name":"uat","test_level":"Sometimes"}]}`))
	require.Equal(t, http.StatusUnprocessableEntity, api.status)
	require.Contains(t, api.body, "stages.1.name")
	require.Contains(t, api.body, "stages.1.test_level")
	api = b.api("GET", "/api/v1/projects/CRM/pipeline", tok, nil)
	require.Contains(t, api.body, `"name": "Production"`, "a refused save changes nothing")
}
