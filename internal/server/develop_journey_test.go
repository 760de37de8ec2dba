package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/orgsim"
)

// TestDevelopJourney connects an org through the simulator's OAuth page
// in a real browser (a denied approval first), watches a snapshot's live
// progress, changes the org in Setup, snapshots again, compares the two
// and opens a component's side-by-side diff.
func TestDevelopJourney(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	dev := b.sim.Org("dev")
	for i := range 6 {
		require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: fmt.Sprintf("Account.F%02d__c", i),
			XML: fmt.Sprintf(`<fields><fullName>F%02d__c</fullName><label>Field %d</label><length>40</length><type>Text</type></fields>`, i, i)}))
	}
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")

	connect := func(decision string) {
		tab.Do(
			chromedp.Navigate(b.srv.URL+"/develop"),
			chromedp.Click(chromedp.CSS(`[data-testid="connect-org"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="org-form"]`)),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), "Dev"),
			chromedp.SetValue(chromedp.CSS(`#f-kind`), "developer_sandbox"),
			chromedp.SetValue(chromedp.CSS(`#f-login_url`), dev.Info().LoginURL),
			chromedp.SendKeys(chromedp.CSS(`#f-client_id`), dev.ClientID()),
			chromedp.SendKeys(chromedp.CSS(`#f-client_secret`), dev.ClientSecret()),
			chromedp.Click(chromedp.CSS(`[data-testid="connect"]`)),
			// The simulator's approval page, on the org's own address.
			chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
			chromedp.SendKeys(chromedp.CSS(`#u`), dev.Username()),
			chromedp.SendKeys(chromedp.CSS(`#p`), dev.Password()),
			chromedp.Click(chromedp.CSS(`button[value="`+decision+`"]`)),
		)
	}
	connect("deny")
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	require.Contains(t, tab.Text(`[data-testid="flash"]`), "did not allow access")
	require.Contains(t, tab.Location(), "/orgs/new")
	tab.Screenshot("develop-01-denied")

	connect("allow")
	tab.WaitText("is connected as " + dev.Username())
	tab.WaitText("Reachable")
	require.Contains(t, tab.Text(`[data-testid="health-result"]`), "API calls today")
	require.NotContains(t, tab.Text("body"), dev.ClientSecret(), "secrets never appear in pages")
	tab.Screenshot("develop-02-org")

	snap := func() {
		tab.Do(chromedp.Click(chromedp.CSS(`form[action$="/snapshots"] button`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="snap-progress"]`)))
		tab.WaitText("Components by type")
	}
	// Live progress: the panel shows retrieved counts before it finishes.
	tab.Do(chromedp.Click(chromedp.CSS(`form[action$="/snapshots"] button`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="snap-progress"]`)))
	tab.Screenshot("develop-03-snapshot-running")
	sawProgress := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		// The page reloads itself when the snapshot ends; a read that
		// lands mid-reload is simply tried again.
		txt, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="snap-progress"]') || {}).innerText || ""`))
		if err == nil && (strings.Contains(txt, "Retrieved") || strings.Contains(txt, "Listing")) {
			sawProgress = true
		}
		done, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="snapshot-types"]') !== null`))
		if err == nil && done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, sawProgress, "the page showed progress while the snapshot ran")
	require.Equal(t, 1, tab.Count(`[data-testid="snapshot-types"]`))
	require.Contains(t, tab.Text(`[data-testid="snapshot-types"]`), "CustomField")
	tab.Screenshot("develop-04-snapshot-done")
	first := tab.Location()

	require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.F02__c",
		XML: `<fields><fullName>F02__c</fullName><label>Renamed in Setup</label><length>80</length><type>Text</type></fields>`}))
	require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.F03__c",
		XML: `<fields><fullName>F03__c</fullName><label>Field 3</label><length>60</length><type>Text</type></fields>`}))
	require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.F04__c",
		XML: `<fields><fullName>F04__c</fullName><label>Field 4</label><length>50</length><type>Text</type></fields>`}))
	_ = first
	tab.Do(chromedp.Navigate(b.srv.URL + "/develop"))
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="orgs"] a`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/snapshots"] button`)))
	snap()
	devSecond := tab.Location()
	tab.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="compare"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-items"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="compare-totals"]`), "3\nchanged")
	require.Contains(t, tab.Text(`[data-testid="compare-items"]`), "Account.F02__c")
	tab.Screenshot("develop-05-compare")
	compareURL := tab.Location()
	tab.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="compare-items"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="component-diff"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="component-diff"]`), "Renamed in Setup")
	require.Equal(t, 2, tab.Count(`[data-testid="component-diff"] tr.sbs-chg`), "label and length changed")
	sections := tab.Text(`[data-testid="diff-sections"]`)
	require.Contains(t, sections, "fields[F02__c]/label")
	require.Contains(t, sections, "fields[F02__c]/length")
	tab.Screenshot("develop-06-diff")

	// Capture the three changed fields onto a work item (a wrong key first).
	p, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	item, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Longer account fields"})
	require.NoError(t, err)
	tab.Do(chromedp.Navigate(compareURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="capture-form"]`)))
	require.Equal(t, 1, tab.Count(`#work-item-keys option[value="`+item.Key+`"]`), "the work item is offered by key and title")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-check="all"]`)))
	require.Equal(t, tab.Count(`input[name="c"]`), tab.Count(`input[name="c"]:checked`), "select all")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-check="none"]`)))
	require.Equal(t, 0, tab.Count(`input[name="c"]:checked`), "select none")
	tab.Do(
		chromedp.Click(chromedp.CSS(`input[value="CustomField|Account.F02__c"]`)),
		chromedp.Click(chromedp.CSS(`input[value="CustomField|Account.F03__c"]`)),
		chromedp.Click(chromedp.CSS(`input[value="CustomField|Account.F04__c"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-work_item`), "CRM-404"),
		chromedp.Click(chromedp.CSS(`[data-testid="capture"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-work_item"]`)),
	)
	require.Equal(t, 3, tab.Count(`input[name="c"]:checked`), "the ticks are kept after a refusal")
	tab.Do(
		chromedp.SetValue(chromedp.CSS(`#f-work_item`), strings.ToLower(item.Key)),
		chromedp.Click(chromedp.CSS(`[data-testid="capture"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="captured"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="flash"]`), "Captured 3 components onto "+item.Key)
	captured := tab.Text(`[data-testid="captured"]`)
	for _, f := range []string{"Account.F02__c", "Account.F03__c", "Account.F04__c"} {
		require.Contains(t, captured, f)
	}
	tab.Screenshot("develop-07-captured")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="captured"] a[href^="/compare/diff"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component-diff"]`)))

	// Dev against UAT: a second org, connected headless with a key file
	// uploaded through the form, snapshotted, and compared with Dev.
	uat := b.sim.Org("uat")
	keyFile := filepath.Join(t.TempDir(), "uat.key")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(uat.JWTKey())}), 0o600))
	tab.Do(
		chromedp.Navigate(b.srv.URL+"/orgs/new"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "UAT"),
		chromedp.SetValue(chromedp.CSS(`#f-kind`), "full_sandbox"),
		chromedp.SetValue(chromedp.CSS(`#f-login_url`), uat.Info().LoginURL),
		chromedp.Click(chromedp.CSS(`input[name="auth"][value="jwt"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-client_id`), uat.ClientID()),
		chromedp.Click(chromedp.CSS(`details.proposal-fields summary`)),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), uat.Username()),
		chromedp.SetUploadFiles(`#f-private_key_file`, []string{keyFile}),
		chromedp.Click(chromedp.CSS(`[data-testid="connect"]`)),
	)
	tab.WaitText("UAT is connected.")
	snap()
	uatSnap := tab.Location()
	var uatID int64
	_, err = fmt.Sscanf(uatSnap[strings.Index(uatSnap, "/snapshots/"):], "/snapshots/%d", &uatID)
	require.NoError(t, err)
	tab.Do(
		chromedp.Navigate(devSecond),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-form"]`)),
		chromedp.SetValue(chromedp.CSS(`#f-a`), fmt.Sprint(uatID)),
		chromedp.Click(chromedp.CSS(`[data-testid="compare"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-items"]`)),
	)
	require.Contains(t, tab.Text("h1"), "UAT #")
	require.Contains(t, tab.Text(`[data-testid="compare-items"]`), "Account.F05__c", "Dev's fields are new against UAT")
	tab.Screenshot("develop-09-dev-vs-uat")

	// The comparison is kept and can be found again.
	tab.Do(chromedp.Navigate(b.srv.URL+"/develop"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="recent-comparisons"]`)))
	require.Contains(t, tab.Text(`[data-testid="recent-comparisons"]`), "Dev #1 → Dev #2")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="recent-comparisons"] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="compare-items"]`)))
	tab.Screenshot("develop-08-home")

	// The same through the API.
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	res := b.api("GET", "/api/v1/orgs", tok, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.NotContains(t, res.body, dev.ClientSecret())
	require.Contains(t, res.body, `"name": "Dev"`)
}
