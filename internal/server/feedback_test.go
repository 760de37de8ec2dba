package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// postMultipart submits the feedback form as a browser does, with a file.
func postMultipart(t *testing.T, br *browser, path string, fields map[string]string, fileName string, file []byte) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields["csrf_token"] = br.csrf()
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile("screenshot", fileName)
		require.NoError(t, err)
		_, _ = fw.Write(file)
	}
	require.NoError(t, mw.Close())
	req, _ := http.NewRequest(http.MethodPost, br.b.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return br.do(req)
}

// TestFeedbackTriage files feedback as an end user (with a screenshot, and
// with a file that only pretends to be one), over the API naming a
// component a release deployed, and triages it: a bug linked to that
// release, a declined suggestion, refusals for the wrong role.
func TestFeedbackTriage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedPlan(t, b)
	viewer := b.user(alm.RoleViewer, "user@example.com")
	br := b.signedIn(viewer)

	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var pngBytes bytes.Buffer
	require.NoError(t, png.Encode(&pngBytes, img))

	// A file that is not an image is refused, and the text is kept.
	res := postMultipart(t, br, "/projects/CRM/feedback", map[string]string{"kind": "problem", "title": "Save button greyed out"}, "shot.png", []byte("<script>alert(1)</script>"))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	doc := res.doc(t)
	require.Contains(t, doc.Find(`[data-testid="error-screenshot"]`).Text(), "PNG, JPEG, GIF or WebP")
	v, _ := doc.Find(`#f-title`).Attr("value")
	require.Equal(t, "Save button greyed out", v)

	res = postMultipart(t, br, "/projects/CRM/feedback", map[string]string{"kind": "problem", "title": "Save button greyed out", "body": "On every quote."}, "shot.png", pngBytes.Bytes())
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	list, err := b.store.ListFeedback(b.ctx, sd.project.ID, "new", 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, list[0].HasScreenshot)
	shot := br.get(fmt.Sprintf("/feedback/%d/screenshot", list[0].ID))
	require.Equal(t, "image/png", shot.header.Get("Content-Type"))
	require.Equal(t, "nosniff", shot.header.Get("X-Content-Type-Options"))

	// A release deployed ApexClass Greeter; a report about it links there.
	sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "x"})
	require.NoError(t, err)
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{{Hash: "g1", Data: snapshot.EncodeFiles(map[string][]byte{"classes/Greeter.cls": []byte(greeter), "classes/Greeter.cls-meta.xml": []byte(testClassMeta)})}})
	require.NoError(t, err)
	require.NoError(t, b.store.CaptureComponents(b.ctx, sd.item.Key, sn.ID, sn.ID, []store.Capture{{Type: "ApexClass", Name: "Greeter", Change: "new", Hash: "g1"}}))
	_, err = b.store.SetWorkItemRelease(b.ctx, sd.item.Key, &sd.release.ID)
	require.NoError(t, err)
	build, err := build.New(b.store).Build(b.ctx, sd.release.ID, "", nil)
	require.NoError(t, err)
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: "PROD", Kind: alm.OrgProduction, LoginURL: "https://login.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	d, err := b.store.CreateDeployment(b.ctx, store.NewDeployment{OrgID: org.ID, BuildID: build.ID, Kind: "deploy", TestLevel: "RunLocalTests",
		Components: []alm.DeploymentComponent{{Type: "ApexClass", Name: "Greeter", Change: "new", Hash: "g1"}}})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishDeployment(b.ctx, d.ID, "succeeded", alm.ValidationResult{}, "", false, nil, nil))

	vtok := b.token(viewer)
	res = b.api("POST", "/api/v1/feedback", vtok, strings.NewReader(`{"project":"CRM","kind":"problem","title":"Greeting is wrong","component_type":"ApexClass","component_name":"greeter"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	fb := decode[alm.Feedback](t, res)
	res = b.api("POST", "/api/v1/feedback", vtok, strings.NewReader(`{"project":"CRM","kind":"praise","title":""}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, `"kind"`)
	require.Contains(t, res.body, `"title"`)

	res = b.api("POST", fmt.Sprintf("/api/v1/feedback/%d/convert", fb.ID), vtok, strings.NewReader(`{"into":"bug"}`))
	require.Equal(t, http.StatusForbidden, res.status, "end users file; product owners triage")
	po := b.token(b.user(alm.RoleProductOwner, "po@example.com"))
	res = b.api("POST", fmt.Sprintf("/api/v1/feedback/%d/convert", fb.ID), po, strings.NewReader(`{"into":"bug"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	fb = decode[alm.Feedback](t, res)
	require.Equal(t, "converted", fb.Status)
	require.Equal(t, "Spring", fb.ReleaseName, "linked to the release that last changed the component")
	bug, err := b.store.WorkItemByKey(b.ctx, fb.WorkItem)
	require.NoError(t, err)
	require.Equal(t, alm.KindBug, bug.Kind)
	require.Contains(t, bug.Description, "last changed in release Spring")
	require.NotNil(t, bug.FoundInID, "the bug is linked to the release, not only named in text")
	require.Equal(t, sd.release.ID, *bug.FoundInID)
	require.Nil(t, bug.ReleaseID, "found in Spring; the fix is not planned into Spring")
	item := b.signedIn(must(b.store.UserByEmail(b.ctx, "po@example.com"))).get("/work-items/" + bug.Key)
	require.Contains(t, item.doc(t).Find(`[data-testid="item-found-in"]`).Text(), "Spring")
	res = b.api("GET", "/api/v1/projects/CRM/work-items/"+bug.Key, po, nil)
	require.Contains(t, res.body, `"found_in_release_id": `+fmt.Sprint(sd.release.ID))
	res = b.api("POST", fmt.Sprintf("/api/v1/feedback/%d/convert", fb.ID), po, strings.NewReader(`{"into":"requirement"}`))
	require.Equal(t, http.StatusConflict, res.status, "triaged once")

	// The page's screenshot report: declined without a reason is refused.
	pob := b.signedIn(must(b.store.UserByEmail(b.ctx, "po@example.com")))
	page := pob.post(fmt.Sprintf("/feedback/%d/decline", list[0].ID), nil)
	require.Equal(t, http.StatusUnprocessableEntity, page.status)
	page = pob.post(fmt.Sprintf("/feedback/%d/decline", list[0].ID), map[string][]string{"note": {"Fixed by the Spring release"}})
	require.Equal(t, http.StatusSeeOther, page.status)
	got, err := b.store.FeedbackByID(b.ctx, list[0].ID)
	require.NoError(t, err)
	require.Equal(t, "declined", got.Status)

	for _, path := range []string{"/projects/CRM/feedback", "/projects/CRM/feedback?status=all", fmt.Sprintf("/feedback/%d", fb.ID), "/projects/CRM/metrics", "/maintain"} {
		require.Equal(t, http.StatusOK, pob.get(path).status, path)
	}
	res = b.api("GET", "/api/v1/feedback?project=CRM&status=converted", po, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Len(t, decode[struct{ Items []alm.Feedback }](t, res).Items, 1)
}
