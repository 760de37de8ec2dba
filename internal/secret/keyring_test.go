package secret

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := ParseKey(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, err := New(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("refresh-token-value"), "org:1:refresh")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "refresh-token-value") {
		t.Fatal("plaintext visible in ciphertext")
	}
	got, err := k.Open(sealed, "org:1:refresh")
	if err != nil || string(got) != "refresh-token-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := map[string]string{
		"WrongContext":   "org:2:refresh",
		"TamperedData":   "",
		"NotACiphertext": "",
	}
	for name, ctx := range tests {
		t.Run(name, func(t *testing.T) {
			in := sealed
			switch name {
			case "TamperedData":
				in = sealed[:len(sealed)-2] + "AA"
				ctx = "org:1:refresh"
			case "NotACiphertext":
				in = "plain"
			}
			if _, err := k.Open(in, ctx); err != ErrOpen {
				t.Errorf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := mustKey(t), mustKey(t)
	old, _ := New(oldKey)
	sealed, _ := old.Seal([]byte("s"), "c")
	rotated, _ := New(newKey, oldKey)
	if !rotated.NeedsRotation(sealed) {
		t.Error("a value sealed with the old key needs rotation")
	}
	if got, err := rotated.Open(sealed, "c"); err != nil || string(got) != "s" {
		t.Fatalf("old value should open with the previous key: %q %v", got, err)
	}
	fresh, _ := New(newKey)
	if _, err := fresh.Open(sealed, "c"); err != ErrOpen {
		t.Error("without the old key the value must not open")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{7}, 32)
	for _, s := range []string{hex.EncodeToString(raw), "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", " BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", "c2hvcnQ=", strings.Repeat("z", 64)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) should fail", s)
		}
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second call should load the same key: created=%v err=%v", created, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt key file should be an error naming it: %v", err)
	}
}

func TestDeriveIsPurposeBound(t *testing.T) {
	t.Parallel()
	k, _ := New(mustKey(t))
	a, b := k.Derive("csrf"), k.Derive("cookie")
	if bytes.Equal(a, b) || len(a) != 32 {
		t.Error("subkeys for different purposes must differ")
	}
	if !bytes.Equal(a, k.Derive("csrf")) {
		t.Error("Derive must be deterministic")
	}
}
