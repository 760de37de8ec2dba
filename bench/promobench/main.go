// Command promobench runs concurrent promotions across simulated orgs
// through the real deploy job (River on a private PostgreSQL, the orgs
// service, the org simulator over HTTP): each deployment snapshots what it
// touches, deploys, and is recorded. It checks no job is lost and every
// deployment is recorded, and reports throughput and Trellis's overhead
// per deployment: its latency from queueing to recorded outcome, minus
// the same work done straight against the simulator with the Salesforce
// client (retrieve, deploy, poll), p50 and p95.
//
//	go run ./bench/promobench [-promotions 100] [-orgs 10] [-step 100ms]
package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/trellis-alm/trellis/bench/benchdb"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

const meta = `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`

func main() {
	n := flag.Int("promotions", 100, "concurrent promotions")
	nOrgs := flag.Int("orgs", 10, "simulated orgs")
	step := flag.Duration("step", 100*time.Millisecond, "the simulator's time per stage of an asynchronous operation")
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	db, err := benchdb.Start(ctx, "promobench", log)
	check(err)
	defer db.Close()
	pool, st := db.Pool, db.Store
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys, err := secret.New(key)
	check(err)
	admin, err := st.CreateUser(ctx, alm.NewUser{Email: "bench@example.com", Name: "Bench", Role: alm.RoleAdmin}, "", false)
	check(err)
	ctx = alm.WithActor(ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})

	var names []string
	for i := range *nOrgs {
		names = append(names, fmt.Sprintf("uat%02d", i))
	}
	sim, err := orgsim.Start(orgsim.Options{Orgs: names, Step: *step})
	check(err)
	defer sim.Close()
	osvc := orgs.New(st, keys, orgs.Config{Logger: log})
	deps := jobs.Deps{Store: st, Orgs: osvc, Logger: log, Keyring: keys}
	svc := promote.New(st, nil)

	// One project per org with a one-stage pipeline; n/orgs releases each,
	// each capturing its own Apex class.
	type job struct {
		dep   alm.Deployment
		org   alm.Org
		class string
	}
	var work []job
	var orgList []alm.Org
	per := max(1, *n / *nOrgs)
	for i, so := range sim.Orgs() {
		pem := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(so.JWTKey())}))
		org, err := osvc.ConnectJWT(ctx, alm.NewOrg{Name: so.Name, Kind: alm.OrgFullSandbox, LoginURL: so.Info().LoginURL, Username: so.Username(), ClientID: so.ClientID()}, pem)
		check(err)
		orgList = append(orgList, org)
		proj, err := st.CreateProject(ctx, alm.NewProject{Key: fmt.Sprintf("P%02d", i), Name: "Bench " + so.Name})
		check(err)
		check(st.SavePipeline(ctx, proj.ID, []alm.Stage{{Name: "UAT", OrgID: &org.ID, TestLevel: "NoTestRun", ApproverRoles: []alm.Role{}}}))
		src, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "bench"})
		check(err)
		for r := range per {
			rel, err := st.CreateRelease(ctx, proj.ID, alm.ReleaseInput{Name: fmt.Sprintf("R%d", r)})
			check(err)
			it, err := st.CreateWorkItem(ctx, proj.ID, alm.WorkItemInput{Title: "bench"})
			check(err)
			_, err = st.SetWorkItemRelease(ctx, it.Key, &rel.ID)
			check(err)
			class := fmt.Sprintf("Bench%02d_%03d", i, r)
			hash := class + "-v1"
			_, err = st.PutBlobs(ctx, []store.Blob{{Hash: hash, Data: snapshot.EncodeFiles(map[string][]byte{
				"classes/" + class + ".cls": []byte("public class " + class + " { }"), "classes/" + class + ".cls-meta.xml": []byte(meta)})}})
			check(err)
			check(st.CaptureComponents(ctx, it.Key, src.ID, src.ID, []store.Capture{{Type: "ApexClass", Name: class, Change: "new", Hash: hash}}))
			b, err := build.New(st).Build(ctx, rel.ID, "", nil)
			check(err)
			p, err := svc.Open(ctx, b.ID, "UAT")
			check(err)
			d, err := svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
			check(err)
			work = append(work, job{dep: d, org: org, class: class})
		}
	}

	// Baseline: the same work straight against the simulator, one at a
	// time: retrieve what the deploy touches, deploy, poll to the end.
	var base []time.Duration
	for i := range min(10, len(orgList)) {
		org := orgList[i]
		c, err := osvc.Client(ctx, org)
		check(err)
		class := fmt.Sprintf("Baseline%02d", i)
		zip, err := mkZip(class)
		check(err)
		t0 := time.Now()
		_, err = c.Retrieve(ctx, salesforce.RetrieveRequest{APIVersion: org.APIVersion, Unpackaged: map[string][]string{"ApexClass": {class}}}, nil)
		check(err)
		id, err := c.Deploy(ctx, zip, salesforce.DeployOptions{TestLevel: "NoTestRun", RollbackOnError: true, IgnoreWarnings: true, SinglePackage: true})
		check(err)
		_, err = c.WaitDeploy(ctx, id, nil)
		check(err)
		base = append(base, time.Since(t0))
	}
	slices.Sort(base)
	baseline := base[len(base)/2]

	client, err := jobs.NewClient(pool, deps, jobs.Config{Work: true, MaxWorkers: *n, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 10 * time.Millisecond})
	check(err)
	check(client.Start(ctx))
	defer jobs.Stop(context.Background(), client)
	t0 := time.Now()
	queued := map[int64]time.Time{}
	for _, w := range work {
		queued[w.dep.ID] = time.Now()
		_, err := client.Insert(ctx, jobs.DeployArgs{DeploymentID: w.dep.ID}, nil)
		check(err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		active, err := st.ActiveDeployments(ctx)
		check(err)
		if len(active) == 0 {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "%d deployments still running after 10 minutes\n", len(active))
			os.Exit(1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wall := time.Since(t0)

	var lat []time.Duration
	failed := 0
	for _, w := range work {
		d, err := st.DeploymentByID(ctx, w.dep.ID)
		check(err)
		if d.Status != "succeeded" {
			failed++
			fmt.Fprintf(os.Stderr, "deployment %d %s: %s\n", d.ID, d.Status, d.Error)
			continue
		}
		comps, err := st.DeploymentComponents(ctx, d.ID)
		check(err)
		if len(comps) != 1 || comps[0].Existed == nil {
			failed++
			fmt.Fprintf(os.Stderr, "deployment %d not recorded in full\n", d.ID)
			continue
		}
		lat = append(lat, d.Finished.Sub(queued[d.ID]))
	}
	// Every class is in its org, deployed once.
	missing := 0
	for i, so := range sim.Orgs() {
		c, err := osvc.Client(ctx, orgList[i])
		check(err)
		props, err := c.ListMetadata(ctx, []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
		check(err)
		have := map[string]bool{}
		for _, p := range props {
			have[p.FullName] = true
		}
		for _, w := range work {
			if w.org.ID == orgList[i].ID && !have[w.class] {
				missing++
			}
		}
		_ = so
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	over := func(d time.Duration) time.Duration { return max(0, d-baseline) }
	fmt.Printf("promotions: %d across %d orgs (simulator step %s)\n", len(work), len(orgList), *step)
	fmt.Printf("recorded: %d succeeded, %d failed or incomplete, %d classes missing in their org\n", len(lat), failed, missing)
	fmt.Printf("wall time: %s, throughput %.1f deployments/s\n", wall.Round(time.Millisecond), float64(len(lat))/wall.Seconds())
	fmt.Printf("baseline (client straight to the simulator: retrieve + deploy + poll), median of %d: %s\n", len(base), baseline.Round(time.Millisecond))
	fmt.Printf("Trellis latency queued→recorded: p50 %s p95 %s\n", q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond))
	fmt.Printf("Trellis overhead beyond the simulator's time: p50 %s p95 %s\n", over(q(0.5)).Round(time.Millisecond), over(q(0.95)).Round(time.Millisecond))
	if failed > 0 || missing > 0 || len(lat) != len(work) {
		os.Exit(1)
	}
}

func mkZip(class string) ([]byte, error) {
	return metadataZip(map[string][]byte{
		"package.xml":                        []byte(`<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>` + class + `</members><name>ApexClass</name></types><version>62.0</version></Package>`),
		"classes/" + class + ".cls":          []byte("public class " + class + " { }"),
		"classes/" + class + ".cls-meta.xml": []byte(meta),
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var metadataZip = metadata.WriteZip
