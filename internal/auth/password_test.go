package auth

import (
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/alm"
)

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("unexpected encoding %s", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password must differ (random salt)")
	}
	tests := []struct {
		name       string
		hash, pass string
		ok, rehash bool
		wantErr    bool
	}{
		{"Right", h, "correct horse battery", true, false, false},
		{"Wrong", h, "correct horse batterY", false, false, false},
		{"Empty", h, "", false, false, false},
		{"WeakParamsAskForRehash", weakHash(t, "pw"), "pw", true, true, false},
		{"NotArgon", "$2a$10$abcdefghijklmnopqrstuv", "x", false, false, true},
		{"Garbage", "nonsense", "x", false, false, true},
		{"BadBase64", "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!", "x", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := CheckPassword(tt.hash, tt.pass)
			if (err != nil) != tt.wantErr || ok != tt.ok || rehash != tt.rehash {
				t.Errorf("CheckPassword = %v, %v, %v; want ok=%v rehash=%v err=%v", ok, rehash, err, tt.ok, tt.rehash, tt.wantErr)
			}
		})
	}
}

// weakHash hashes with cheaper parameters than today's, as an older
// Trellis might have.
func weakHash(t *testing.T, p string) string {
	t.Helper()
	saved := defaultParams
	defaultParams = argonParams{memory: 8 * 1024, time: 1, threads: 1}
	h, err := HashPassword(p)
	defaultParams = saved
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRandomPassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		p := RandomPassword()
		if len(p) != 16 || alm.ValidatePassword(p) != "" || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("bad random password %q", p)
		}
		if seen[p] {
			t.Fatal("repeated random password")
		}
		seen[p] = true
	}
}

func TestCSRFTokens(t *testing.T) {
	t.Parallel()
	c := NewCSRF([]byte("0123456789abcdef0123456789abcdef"))
	seed := c.NewSeed()
	tok := c.Token(seed)
	if !c.Valid(seed, tok) {
		t.Fatal("own token must be valid")
	}
	// Tamper with the first character: it carries six whole bits, where
	// the last one's low bits may be padding that decodes the same.
	tampered := "A" + tok[1:]
	if tok[0] == 'A' {
		tampered = "B" + tok[1:]
	}
	for name, tt := range map[string][2]string{
		"OtherSeed":  {c.NewSeed(), tok},
		"EmptyToken": {seed, ""},
		"EmptySeed":  {"", tok},
		"Tampered":   {seed, tampered},
	} {
		if c.Valid(tt[0], tt[1]) {
			t.Errorf("%s: should be invalid", name)
		}
	}
	other := NewCSRF([]byte("another key another key another!"))
	if other.Valid(seed, tok) {
		t.Error("a token from another key must not validate")
	}
}

func TestOIDCRoleMapping(t *testing.T) {
	t.Parallel()
	o := &OIDC{cfg: OIDCConfig{RoleMap: map[string]alm.Role{"admins": alm.RoleAdmin, "rms": alm.RoleReleaseManager, "devs": alm.RoleDeveloper}, DefaultRole: alm.RoleViewer}}
	tests := []struct {
		groups []string
		want   alm.Role
	}{
		{nil, alm.RoleViewer},
		{[]string{"marketing"}, alm.RoleViewer},
		{[]string{"devs"}, alm.RoleDeveloper},
		{[]string{"devs", "rms"}, alm.RoleReleaseManager},
		{[]string{"rms", "admins", "devs"}, alm.RoleAdmin},
	}
	for _, tt := range tests {
		if got := o.Role(Identity{Groups: tt.groups}); got != tt.want {
			t.Errorf("Role(%v) = %s, want %s", tt.groups, got, tt.want)
		}
	}
	strict := &OIDC{cfg: OIDCConfig{RoleMap: o.cfg.RoleMap}}
	if got := strict.Role(Identity{Groups: []string{"marketing"}}); got != "" {
		t.Errorf("without a default role, unmapped groups get %q, want none", got)
	}
}
