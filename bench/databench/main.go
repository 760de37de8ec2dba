// Command databench measures a data backup at growing volumes: the org
// simulator runs as its own process holding N generated records over 20
// objects, and Trellis's backup engine (Bulk API 2.0 over HTTP, gzip'd
// pages into PostgreSQL) backs them all up. It reports throughput and the
// backup's peak heap growth at each volume, which should stay flat as N
// grows, since records stream a page at a time.
//
//	go run ./bench/databench [-records 250000,500000,1000000] [-objects 20] [-store weed|s3://bucket/prefix]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"crypto/rand"

	"github.com/trellis-alm/trellis/bench/benchdb"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/secret"
)

func main() {
	sizes := flag.String("records", "250000,500000,1000000", "record counts to back up, comma separated")
	objects := flag.Int("objects", 20, "objects the records are spread over")
	step := flag.Duration("step", 20*time.Millisecond, "the simulator's time per stage of a bulk job")
	where := flag.String("store", "", "where chunks go: empty for PostgreSQL, weed for a SeaweedFS S3 server started here, or an s3:// URL (with the AWS_* variables)")
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	tmp, err := os.MkdirTemp("", "databench-")
	check(err)
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "trellis")
	build := exec.Command("go", "build", "-o", bin, "./cmd/trellis")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	check(build.Run())

	db, err := benchdb.Start(ctx, "databench", log)
	check(err)
	defer db.Close()
	st := db.Store
	place, err := db.UseObjects(ctx, *where)
	check(err)
	fmt.Printf("chunks in %s\n", place)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys, err := secret.New(key)
	check(err)
	admin, err := st.CreateUser(ctx, alm.NewUser{Email: "bench@example.com", Name: "Bench", Role: alm.RoleAdmin}, "", false)
	check(err)
	ctx = alm.WithActor(ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})
	osvc := orgs.New(st, keys, orgs.Config{Logger: log})

	fmt.Printf("%-10s %-8s %-9s %-12s %-10s %-14s %-12s\n", "records", "objects", "seconds", "records/s", "stored MB", "peak heap +MB", "API calls")
	for i, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		check(err)
		name := fmt.Sprintf("vol%d", i)
		sim := exec.CommandContext(ctx, bin, "orgsim", "--orgs", name, "--data", filepath.Join(tmp, name), "--json", "--addr", "127.0.0.1:0",
			"--step", step.String(), "--records", strconv.Itoa(n), "--objects", strconv.Itoa(*objects))
		sim.Stderr = os.Stderr
		out, err := sim.StdoutPipe()
		check(err)
		check(sim.Start())
		info := readInfo(out)
		defer sim.Process.Kill()
		keyPEM, err := os.ReadFile(info.JWTKeyFile)
		check(err)
		org, err := osvc.ConnectJWT(ctx, alm.NewOrg{Name: strings.ToUpper(name), Kind: alm.OrgProduction, LoginURL: info.LoginURL, ClientID: info.ClientID, Username: info.Username}, string(keyPEM))
		check(err)
		p, err := st.DataBackupPolicy(ctx, org.ID)
		check(err)
		p.APIShare = 1
		_, err = st.SaveDataBackupPolicy(ctx, p)
		check(err)
		client, err := osvc.Client(ctx, org)
		check(err)
		run, err := st.CreateDataBackupRun(ctx, org.ID, nil)
		check(err)

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}
		}()
		start := time.Now()
		status, err := databackup.Run(ctx, st, client, run.ID, nil)
		check(err)
		elapsed := time.Since(start)
		close(stop)
		<-done
		check(st.FinishDataRun(ctx, run.ID, status, ""))
		r, err := st.DataBackupRun(ctx, run.ID)
		check(err)
		// The simulator's own sample records come on top of the generated ones.
		if status != "done" || r.Records < int64(n) {
			fmt.Fprintf(os.Stderr, "databench: backed up %d of %d records (%s)\n", r.Records, n, status)
			os.Exit(1)
		}
		growth := int64(peak.Load()) - int64(base)
		fmt.Printf("%-10d %-8d %-9.1f %-12.0f %-10.1f %-14.1f %-12d\n", r.Records, len(r.Objects), elapsed.Seconds(), float64(r.Records)/elapsed.Seconds(),
			float64(r.Bytes)/(1<<20), float64(max(growth, 0))/(1<<20), r.APICalls)
		_ = sim.Process.Kill()
		_ = sim.Wait()
	}
}

type orgInfo struct {
	LoginURL   string `json:"login_url"`
	ClientID   string `json:"client_id"`
	Username   string `json:"username"`
	JWTKeyFile string `json:"jwt_key_file"`
}

// readInfo reads the simulator's JSON description of its org.
func readInfo(r interface{ Read([]byte) (int, error) }) orgInfo {
	var doc struct{ Orgs []orgInfo }
	dec := json.NewDecoder(bufio.NewReader(r))
	check(dec.Decode(&doc))
	if len(doc.Orgs) == 0 {
		fmt.Fprintln(os.Stderr, "databench: the simulator described no org")
		os.Exit(1)
	}
	return doc.Orgs[0]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "databench:", err)
		os.Exit(1)
	}
}
