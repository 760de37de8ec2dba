// Command snapstore measures snapshot storage and comparison at org
// scale: it stores 30 daily snapshots of a generated org of 50,000
// components (custom fields, Apex classes, layouts, flows, profiles in
// realistic sizes) that changes by 1% a day, through the same store calls
// the snapshot job makes, on a private PostgreSQL; then it reports the
// storage of all 30 against one, and the server time to compare two
// stored snapshots (read both manifests from the database, compare).
//
//	go run ./bench/snapstore [-components 50000] [-days 30] [-change 0.01] [-store weed|s3://bucket/prefix]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/bench/benchdb"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

func main() {
	n := flag.Int("components", 50000, "components in the org")
	days := flag.Int("days", 30, "daily snapshots")
	change := flag.Float64("change", 0.01, "share of components changed each day")
	runs := flag.Int("runs", 5, "comparisons timed (the median is reported)")
	where := flag.String("store", "", "where content goes: empty for PostgreSQL, weed for a SeaweedFS S3 server started here, or an s3:// URL (with the AWS_* variables)")
	flag.Parse()
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "bench/snapstore"})

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := benchdb.Start(ctx, "snapstore", log)
	check(err)
	defer db.Close()
	st := db.Store
	place, err := db.UseObjects(ctx, *where)
	check(err)
	fmt.Printf("content in %s\n", place)

	org := newOrg(*n)
	r := rand.New(rand.NewPCG(11, 12))
	var first int64
	var ids []int64
	var heaps []uint64
	t0 := time.Now()
	for day := range *days {
		if day > 0 {
			org.change(*change, r)
		}
		m, blobs := org.snapshot()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse // the day's generated org, every blob of it
		peak := benchdb.HeapPeak()
		dayStart := time.Now()
		sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "org", Label: fmt.Sprint("day ", day)})
		check(err)
		hashes := make([]string, len(blobs))
		for i, b := range blobs {
			hashes[i] = b.Hash
		}
		missing, err := st.MissingBlobs(ctx, hashes)
		check(err)
		var fresh []store.Blob
		for _, b := range blobs {
			if missing[b.Hash] {
				fresh = append(fresh, b)
			}
		}
		var added int64
		for chunk := range slices.Chunk(fresh, 2000) {
			a, err := st.PutBlobs(ctx, chunk)
			check(err)
			added += a
		}
		check(st.FinishSnapshot(ctx, sn.ID, m, added, nil))
		ids = append(ids, sn.ID)
		// What storing the day took beyond the generated org; it must not
		// grow with the days.
		heaps = append(heaps, max(peak(), base)-base)
		if day == 0 || day == *days-1 || (day+1)%10 == 0 {
			fmt.Printf("day %2d: %d new blobs (%s compressed) stored in %s, peak heap growth %s\n", day, len(fresh), mb(added), time.Since(dayStart).Round(time.Millisecond), mb(int64(heaps[day])))
		}
		if day == 0 {
			use, err := st.SnapshotStorage(ctx)
			check(err)
			first = use.BlobBytes + use.ManifestBytes
			fmt.Printf("day 0: %d components, %s of blobs and manifest (raw content %s)\n", len(m), mb(first), mb(org.rawBytes()))
		}
	}
	use, err := st.SnapshotStorage(ctx)
	check(err)
	total := use.BlobBytes + use.ManifestBytes
	fmt.Printf("%d daily snapshots stored in %s; peak heap growth per day (beyond the generated org): min %s, max %s\n", *days, time.Since(t0).Round(time.Millisecond),
		mb(int64(slices.Min(heaps))), mb(int64(slices.Max(heaps))))
	fmt.Printf("storage: one snapshot %s; %d snapshots %s (blobs %s in %d blobs, manifests %s) = %.2f× one\n",
		mb(first), *days, mb(total), mb(use.BlobBytes), use.Blobs, mb(use.ManifestBytes), float64(total)/float64(first))

	var times []time.Duration
	var res snapshot.Result
	for range *runs {
		t := time.Now()
		a, err := st.SnapshotManifest(ctx, ids[len(ids)-2])
		check(err)
		b, err := st.SnapshotManifest(ctx, ids[len(ids)-1])
		check(err)
		res = snapshot.Compare(a, b)
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	fmt.Printf("compare the last two stored snapshots (%d components, %d differ: %d new, %d changed, %d deleted): median %s, best %s (read both manifests + compare)\n",
		len(res.Items), res.Totals.Differs(), res.Totals.New, res.Totals.Changed, res.Totals.Deleted,
		times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond))
	times = times[:0]
	for range *runs {
		t := time.Now()
		a, err := st.SnapshotManifest(ctx, ids[0])
		check(err)
		b, err := st.SnapshotManifest(ctx, ids[len(ids)-1])
		check(err)
		res = snapshot.Compare(a, b)
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	fmt.Printf("compare the first and last (%d differ): median %s\n", res.Totals.Differs(), times[len(times)/2].Round(time.Millisecond))
}

// org is a generated org: component names, types and content versions.
type org struct {
	types   []string
	names   []string
	version []int
}

var kinds = []string{"CustomField", "CustomField", "CustomField", "CustomField", "ApexClass", "Layout", "Flow", "PermissionSet", "ListView", "ValidationRule"}

func newOrg(n int) *org {
	o := &org{}
	for i := range n {
		t := kinds[i%len(kinds)]
		o.types = append(o.types, t)
		o.names = append(o.names, fmt.Sprintf("Object%03d__c.Item_%05d", i%300, i))
		o.version = append(o.version, 1)
	}
	return o
}

func (o *org) change(frac float64, r *rand.Rand) {
	for range int(float64(len(o.names)) * frac) {
		o.version[r.IntN(len(o.names))]++
	}
}

// content is a component's metadata: XML sized and shaped by its type.
func (o *org) content(i int) []byte {
	name, v := o.names[i], o.version[i]
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n    <fullName>%s</fullName>\n", o.types[i], name)
	lines := map[string]int{"CustomField": 8, "ApexClass": 60, "Layout": 40, "Flow": 80, "PermissionSet": 120, "ListView": 10, "ValidationRule": 6}[o.types[i]]
	for l := range lines {
		fmt.Fprintf(&b, "    <item>\n        <field>%s.Detail_%d__c</field>\n        <value>%d</value>\n        <note>revision %d of %s, line %d</note>\n    </item>\n", name, l, (l*7+v)%97, v, name, l)
	}
	fmt.Fprintf(&b, "</%s>\n", o.types[i])
	return []byte(b.String())
}

func (o *org) snapshot() (snapshot.Manifest, []store.Blob) {
	m := make(snapshot.Manifest, 0, len(o.names))
	blobs := make([]store.Blob, 0, len(o.names))
	for i := range o.names {
		data := o.content(i)
		h := sha256.Sum256(data)
		hash := hex.EncodeToString(h[:])
		m = append(m, snapshot.Entry{Type: o.types[i], Name: o.names[i], Hash: hash})
		blobs = append(blobs, store.Blob{Hash: hash, Data: data})
	}
	m.Sort()
	return m, blobs
}

func (o *org) rawBytes() int64 {
	var n int64
	for i := range o.names {
		n += int64(len(o.content(i)))
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "snapstore:", err)
		os.Exit(1)
	}
}
