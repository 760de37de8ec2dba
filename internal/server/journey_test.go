package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/browsertest"
)

// TestFirstRunJourney walks a newcomer through a fresh installation in a
// real browser: setup creates the first admin, the lifecycle navigation
// appears, sign-out and sign-in work, all with the keyboard-reachable
// controls a user would use and no console errors on the way.
func TestFirstRunJourney(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{NoUser: true})
	tab := browsertest.Shared(t).NewTab(t)

	tab.Do(chromedp.Navigate(b.srv.URL + "/"))
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="setup-form"]`)))
	require.True(t, strings.HasSuffix(tab.Location(), "/setup"), tab.Location())
	tab.Screenshot("01-setup")

	// A mistake first: the form comes back with the typed name kept.
	tab.Do(
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Admin"),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS(`#f-confirm`), "correct horse batterY"),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-confirm"]`)),
	)
	name := tab.Value(`#f-name`)
	require.Equal(t, "Ada Admin", name)
	tab.Screenshot("02-setup-error")

	tab.Do(
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS(`#f-confirm`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lifecycle-flow"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="flash"]`), "Welcome to Trellis")
	for _, stage := range []string{"plan", "develop", "test", "build", "release", "maintain", "admin-users", "admin-audit", "admin-jobs", "admin-tokens"} {
		require.Equal(t, 1, tab.Count(`[data-testid="nav-`+stage+`"]`), "nav entry %s", stage)
	}
	tab.Screenshot("03-overview")

	// Visit each lifecycle stage from the navigation.
	for _, stage := range []string{"plan", "develop", "test", "build", "release", "maintain"} {
		tab.Do(
			chromedp.Click(chromedp.CSS(`[data-testid="nav-`+stage+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="nav-`+stage+`"][aria-current="page"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-state"]`)),
		)
	}
	tab.Screenshot("04-stage")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="nav-admin-users"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="users-table"]`)))
	require.Contains(t, tab.Text(`[data-testid="users-table"]`), "ada@example.com")
	tab.Screenshot("05-users")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="nav-admin-audit"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-table"]`)))
	require.Contains(t, tab.Text(`[data-testid="audit-table"]`), "user.create")
	tab.Screenshot("06-audit")

	// Sign out through the user menu, using the keyboard to open it.
	tab.Do(
		chromedp.Focus(chromedp.CSS(`[data-testid="user-menu"] summary`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="logout"]`)),
	)
	tab.Screenshot("07-user-menu")
	tab.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="flash"]`), "signed out")
	tab.Screenshot("08-signed-out")

	// Sign in again, typing and submitting with Enter.
	tab.Do(
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "correct horse battery\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lifecycle-flow"]`)),
	)
	require.Equal(t, 1, tab.Count(`[data-testid="user-menu"]`))
}

// TestSignInErrorsInTheBrowser checks the wrong-password path renders its
// message with no console errors (the 401 itself is expected).
func TestSignInErrorsInTheBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	tab := browsertest.Shared(t).NewTab(t)
	tab.Do(
		chromedp.Navigate(b.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "first-admin@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), "not the password\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-error"]`)),
	)
	require.Contains(t, tab.Text(`[data-testid="form-error"]`), "do not match")
	email := tab.Value(`#f-email`)
	require.Equal(t, "first-admin@example.com", email)
	tab.Screenshot("login-error")
}

// signIn logs a tab in through the sign-in form.
func signIn(tab *browsertest.Tab, base, email string) {
	signInWith(tab, base, email, testPassword)
}

func signInWith(tab *browsertest.Tab, base, email, password string) {
	tab.Do(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), password+"\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-menu"]`)),
	)
}

// TestJobsPageInTheBrowser opens River's UI behind the admin check and
// checks it renders under Trellis's Content-Security-Policy without errors.
func TestJobsPageInTheBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{JobsUI: true})
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="nav-admin-jobs"]`)))
	tab.WaitText("Job State")
	tab.Do(chromedp.Navigate(b.srv.URL + "/admin/jobs/jobs?state=available"))
	tab.WaitText("session_prune")
	require.Contains(t, tab.Location(), "/admin/jobs/")
	tab.Screenshot("river-ui")
}

// TestAccountPagesInTheBrowser creates an API token and changes the
// password through the pages, as a user would.
func TestAccountPagesInTheBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.user("developer", "dev@example.com")
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "dev@example.com")
	tab.Do(
		chromedp.Navigate(b.srv.URL+"/account"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="token-form"] #f-name`), "GitHub Actions"),
		chromedp.Click(chromedp.CSS(`[data-testid="token-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-token"]`)),
	)
	require.True(t, strings.HasPrefix(tab.Text(`#new-token-value`), "trl_"))
	require.Contains(t, tab.Text(`[data-testid="token-table"]`), "GitHub Actions")
	tab.Screenshot("account-token")
}
