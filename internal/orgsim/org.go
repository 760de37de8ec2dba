package orgsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// Kind is what sort of org it is; production orgs enforce test and
// coverage rules.
type Kind string

const (
	Production Kind = "production"
	Sandbox    Kind = "sandbox"
	Developer  Kind = "developer"
)

// kindFor guesses an org's kind from its name: prod… is production,
// dev… a developer org, anything else a sandbox.
func kindFor(name string) Kind {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "prod") || n == "live" || n == "main":
		return Production
	case strings.HasPrefix(n, "dev") || strings.HasPrefix(n, "scratch"):
		return Developer
	}
	return Sandbox
}

// Org is one simulated org.
type Org struct {
	sim     *Sim
	Name    string
	BaseURL string // its instance and login URL

	mu        sync.Mutex
	st        *state
	set       *metadata.Set // the org's metadata
	key       *rsa.PrivateKey
	dir       string
	faults    Faults
	deploys   map[string]*deployJob
	retrieves map[string]*retrieveJob
	testRuns  map[string]*testRun
	bulk      map[string]*bulkJob
	cursors   map[string]*cursor
	codes     map[string]*authCode
	rng       *mrand.Rand
	logs      []Record // debug logs (ApexLog) of this run of the simulator
	streams   map[string]*cometClient
	ingest    map[string]*ingestJob
	logBodies map[string]string // ApexLog id → text
}

// state is what survives a restart.
type state struct {
	Kind          Kind                      `json:"kind"`
	ID            string                    `json:"id"`
	UserID        string                    `json:"userId"`
	Username      string                    `json:"username"`
	Password      string                    `json:"password"`
	SecurityToken string                    `json:"securityToken"`
	ClientID      string                    `json:"clientId"`
	ClientSecret  string                    `json:"clientSecret"`
	Counter       int                       `json:"counter"`
	Meta          map[string]*componentMeta `json:"meta"`
	Records       map[string][]Record       `json:"records"`
	Sessions      map[string]*session       `json:"sessions"`
	Refresh       map[string]*grant         `json:"refresh"`
	Audit         []Record                  `json:"audit"`
	Deploys       []*deployRecord           `json:"deploys"`
	TestResults   []Record                  `json:"testResults"`
	Coverage      map[string]*coverage      `json:"coverage"`
	APIUsed       int                       `json:"apiUsed"`
	APIMax        int                       `json:"apiMax"`
	UsageSince    time.Time                 `json:"usageSince"`
}

// componentMeta is what listMetadata reports of a component.
type componentMeta struct {
	ID         string    `json:"id"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
	ModifiedBy string    `json:"modifiedBy"` // a user name
}

type session struct {
	Refresh string    `json:"refresh,omitempty"`
	Issued  time.Time `json:"issued"`
}

type grant struct {
	ClientID string `json:"clientId"`
	Scope    string `json:"scope"`
}

// Record is one sObject row: field → value.
type Record = map[string]any

func metaKey(k metadata.Key) string { return k.Type + "\x00" + k.Name }

// newOrg makes an org, reading its saved state from dir when there is one.
func newOrg(sim *Sim, name, dir string) (*Org, error) {
	o := &Org{sim: sim, Name: name, dir: dir,
		deploys: map[string]*deployJob{}, retrieves: map[string]*retrieveJob{}, testRuns: map[string]*testRun{},
		bulk: map[string]*bulkJob{}, cursors: map[string]*cursor{}, codes: map[string]*authCode{},
		rng: mrand.New(mrand.NewPCG(uint64(len(name)), 7))}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := o.load(); err == nil {
			return o, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("org %s: %w", name, err)
		}
	}
	if err := o.init(name); err != nil {
		return nil, err
	}
	return o, o.saveMetadataLocked()
}

func (o *Org) init(name string) error {
	n := 1 + int(big.NewInt(0).SetBytes([]byte(name)).Int64()%100000)
	o.st = &state{
		Kind:          kindFor(name),
		ID:            newID("00D", 3_000_000+n),
		UserID:        newID("005", 4_000_000+n),
		Username:      "admin@" + strings.ToLower(name) + ".orgsim.test",
		Password:      "orgsim-" + secret(12),
		SecurityToken: secret(24),
		ClientID:      "3MVG9orgsim" + secret(40),
		ClientSecret:  secret(32),
		Meta:          map[string]*componentMeta{},
		Records:       map[string][]Record{},
		Sessions:      map[string]*session{},
		Refresh:       map[string]*grant{},
		Coverage:      map[string]*coverage{},
		APIMax:        100_000,
		UsageSince:    time.Now().UTC(),
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	o.key = key
	o.set = metadata.NewSet()
	o.seed()
	o.organizationRow()
	return nil
}

// Credentials of the org's admin user and connected app.
func (o *Org) Username() string      { o.mu.Lock(); defer o.mu.Unlock(); return o.st.Username }
func (o *Org) Password() string      { o.mu.Lock(); defer o.mu.Unlock(); return o.st.Password }
func (o *Org) SecurityToken() string { o.mu.Lock(); defer o.mu.Unlock(); return o.st.SecurityToken }
func (o *Org) ClientID() string      { o.mu.Lock(); defer o.mu.Unlock(); return o.st.ClientID }
func (o *Org) ClientSecret() string  { o.mu.Lock(); defer o.mu.Unlock(); return o.st.ClientSecret }
func (o *Org) ID() string            { o.mu.Lock(); defer o.mu.Unlock(); return o.st.ID }
func (o *Org) Kind() Kind            { o.mu.Lock(); defer o.mu.Unlock(); return o.st.Kind }

// JWTKey is the private key whose certificate the org's connected app
// holds: sign JWT bearer assertions with it.
func (o *Org) JWTKey() *rsa.PrivateKey { return o.key }

// KeyFile is where the JWT key is saved ("" for an org kept in memory).
func (o *Org) KeyFile() string {
	if o.dir == "" {
		return ""
	}
	return filepath.Join(o.dir, "jwt-key.pem")
}

// NewSession issues an access token, as a login would.
func (o *Org) NewSession() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.issueLocked("")
	o.saveLocked()
	return t
}

func (o *Org) issueLocked(refresh string) string {
	tok := o.st.ID[:15] + "!" + secret(96)
	o.st.Sessions[tok] = &session{Refresh: refresh, Issued: time.Now().UTC()}
	return tok
}

func (o *Org) nextID(prefix string) string {
	o.st.Counter++
	return newID(prefix, o.st.Counter)
}

// load reads the org's state and metadata from its directory.
func (o *Org) load() error {
	b, err := os.ReadFile(filepath.Join(o.dir, "state.json"))
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("state.json: %w", err)
	}
	for _, m := range []*map[string]*componentMeta{&st.Meta} {
		if *m == nil {
			*m = map[string]*componentMeta{}
		}
	}
	if st.Records == nil {
		st.Records = map[string][]Record{}
	}
	if st.Sessions == nil {
		st.Sessions = map[string]*session{}
	}
	if st.Refresh == nil {
		st.Refresh = map[string]*grant{}
	}
	if st.Coverage == nil {
		st.Coverage = map[string]*coverage{}
	}
	o.st = &st
	o.organizationRow()
	kb, err := os.ReadFile(o.KeyFile())
	if err != nil {
		return fmt.Errorf("jwt-key.pem: %w", err)
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return errors.New("jwt-key.pem: no PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("jwt-key.pem: %w", err)
	}
	o.key = key
	zb, err := os.ReadFile(filepath.Join(o.dir, "metadata.zip"))
	if err != nil {
		return fmt.Errorf("metadata.zip: %w", err)
	}
	files, err := metadata.ReadZip(zb, metadata.DefaultZipLimits)
	if err != nil {
		return fmt.Errorf("metadata.zip: %w", err)
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return fmt.Errorf("metadata.zip: %w", err)
	}
	o.set = res.Set
	return nil
}

// saveLocked writes the org's state; o.mu is held (or the org is new).
func (o *Org) saveLocked() error {
	if o.dir == "" {
		return nil
	}
	b, err := json.Marshal(o.st)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(o.dir, "state.json"), b, 0o600); err != nil {
		return err
	}
	if _, err := os.Stat(o.KeyFile()); errors.Is(err, os.ErrNotExist) {
		kb := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(o.key)})
		if err := writeAtomic(o.KeyFile(), kb, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// saveMetadataLocked writes the org's metadata (after deploys and edits).
func (o *Org) saveMetadataLocked() error {
	if o.dir == "" {
		return nil
	}
	files, err := metadata.WriteMetadataFormat(o.set)
	if err != nil {
		return err
	}
	zb, err := metadata.WriteZip(files)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(o.dir, "metadata.zip"), zb, 0o600); err != nil {
		return err
	}
	return o.saveLocked()
}

func writeAtomic(p string, b []byte, mode os.FileMode) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
