package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
)

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// synthetic makes an org-like manifest of n components over 40 types.
func synthetic(n int, seed string) Manifest {
	m := make(Manifest, 0, n)
	for i := range n {
		typ := fmt.Sprintf("Type%02d", i%40)
		m = append(m, Entry{Type: typ, Name: fmt.Sprintf("Component_%06d__c", i), Hash: hashOf(seed + fmt.Sprint(i))})
	}
	m.Sort()
	return m
}

// mutate changes, adds and deletes a fraction of m's components.
func mutate(m Manifest, frac float64, r *rand.Rand, day int) Manifest {
	out := make(Manifest, 0, len(m))
	n := int(float64(len(m)) * frac)
	for _, e := range m {
		switch {
		case r.IntN(len(m)) < n*8/10:
			e.Hash = hashOf(fmt.Sprint(day, e.Name))
		case r.IntN(len(m)) < n/10:
			continue // deleted
		}
		out = append(out, e)
	}
	for i := range n / 10 {
		out = append(out, Entry{Type: "Type00", Name: fmt.Sprintf("New_%d_%d__c", day, i), Hash: hashOf(fmt.Sprint(day, i))})
	}
	out.Sort()
	return out
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	base := synthetic(500, "a")
	next := mutate(base, .05, rand.New(rand.NewPCG(1, 2)), 1)
	d, isDelta, err := Decode(EncodeFull(base))
	if err != nil || isDelta {
		t.Fatalf("decode full: %v %v", err, isDelta)
	}
	if !equal(Manifest(d.Put), base) {
		t.Fatal("full manifest did not round-trip")
	}
	delta := DeltaOf(base, next)
	if delta.Size() == 0 || delta.Size() > 100 {
		t.Fatalf("delta of a 5%% change has %d entries", delta.Size())
	}
	got, isDelta, err := Decode(EncodeDelta(delta))
	if err != nil || !isDelta {
		t.Fatalf("decode delta: %v %v", err, isDelta)
	}
	if !equal(Apply(base, got), next) {
		t.Fatal("base + delta is not the next manifest")
	}
	if _, _, err := Decode([]byte("not gzip")); err == nil {
		t.Fatal("garbage decoded")
	}
}

func equal(a, b Manifest) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCompare(t *testing.T) {
	t.Parallel()
	a := Manifest{
		{"ApexClass", "Old", hashOf("old")},
		{"ApexClass", "Same", hashOf("same")},
		{"CustomField", "Account.Tier__c", hashOf("v1")},
		{"CustomField", "Account.Renamed__c", hashOf("r")},
	}
	b := Manifest{
		{"ApexClass", "Same", hashOf("same")},
		{"ApexClass", "Fresh", hashOf("fresh")},
		{"CustomField", "Account.Tier__c", hashOf("v2")},
		{"CustomField", "Account.renamed__c", hashOf("r")},
	}
	a.Sort()
	b.Sort()
	r := Compare(a, b)
	want := map[string]Change{"Old": Deleted, "Same": Unchanged, "Fresh": New, "Account.Tier__c": Changed, "Account.renamed__c": Unchanged}
	if len(r.Items) != len(want) {
		t.Fatalf("items: %+v", r.Items)
	}
	for _, it := range r.Items {
		if want[it.Name] != it.Change {
			t.Errorf("%s: %s, want %s", it.Name, it.Change, want[it.Name])
		}
	}
	if r.Totals != (Counts{New: 1, Changed: 1, Deleted: 1, Unchanged: 2}) {
		t.Errorf("totals %+v", r.Totals)
	}
	if len(r.Types) != 2 || r.Types[0].Type != "ApexClass" || r.Types[0].Differs() != 2 {
		t.Errorf("types %+v", r.Types)
	}
}

// TestThirtyDailySnapshotsStaySmall is the storage rule in miniature: 30
// daily manifests of a 50,000-component org changing 1% a day, each kept
// as a delta against the day before, take a fraction of one full manifest
// each.
func TestThirtyDailySnapshotsStaySmall(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	m := synthetic(50000, "day0")
	full := len(EncodeFull(m))
	total := full
	first := m
	var deltas []Delta
	for day := 1; day < 30; day++ {
		next := mutate(m, .01, r, day)
		d := DeltaOf(m, next)
		total += len(EncodeDelta(d))
		deltas = append(deltas, d)
		if got := Apply(m, d); !equal(got, next) {
			t.Fatalf("day %d: delta does not rebuild the manifest", day)
		}
		m = next
	}
	if !equal(ApplyAll(first, deltas), m) {
		t.Fatal("applying 29 deltas at once does not rebuild the last manifest")
	}
	if float64(total) > 1.5*float64(full) {
		t.Fatalf("30 manifests take %d bytes, one full %d: over 1.5×", total, full)
	}
	t.Logf("one full manifest %d bytes; 30 daily manifests %d bytes (%.2f×)", full, total, float64(total)/float64(full))
}

func BenchmarkCompare50kOnePercent(b *testing.B) {
	a := synthetic(50000, "x")
	c := mutate(a, .01, rand.New(rand.NewPCG(5, 6)), 1)
	b.ResetTimer()
	for b.Loop() {
		r := Compare(a, c)
		if r.Totals.Differs() == 0 {
			b.Fatal("no differences found")
		}
	}
}

func BenchmarkDecodeFull50k(b *testing.B) {
	data := EncodeFull(synthetic(50000, "x"))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFilesRoundTrip(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"objects/Account.object": []byte("<?xml version=\"1.0\"?>\n<CustomObject>\n=== not a header\n</CustomObject>\n"),
		"classes/A.cls":          []byte("public class A {}"),
		"classes/A.cls-meta.xml": []byte("<ApexClass/>\n"),
		"package.xml":            []byte("ignored"),
	}
	got := DecodeFiles(EncodeFiles(files))
	if len(got) != 3 {
		t.Fatalf("files: %v", got)
	}
	if string(got["objects/Account.object"]) != string(files["objects/Account.object"]) {
		t.Errorf("object: %q", got["objects/Account.object"])
	}
	if string(got["classes/A.cls"]) != "public class A {}\n" {
		t.Errorf("class: %q", got["classes/A.cls"])
	}
}
