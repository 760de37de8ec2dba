// Package repos connects git repositories holding SFDX projects: a bare
// mirror in the data directory, fetched on demand with a sealed token or
// SSH key, and snapshots of any branch or commit read by the metadata
// engine.
package repos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/githost"
	"github.com/trellis-alm/trellis/internal/gitrepo"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Service connects and reads repositories.
type Service struct {
	st       *store.Store
	keys     *secret.Keyring
	dataDir  string
	outbound outbound.Policy
}

// New returns a Service keeping mirrors under dataDir/git, reaching only
// the remotes the outbound policy allows: checked when a repository is
// connected and before every fetch or push, and, over http(s), on every
// connection go-git dials.
func New(st *store.Store, keys *secret.Keyring, dataDir string, out outbound.Policy) *Service {
	for {
		old := gitPolicy.Load()
		wider := out
		if old != nil {
			wider = old.With(out)
		}
		if gitPolicy.CompareAndSwap(old, &wider) {
			break
		}
	}
	return &Service{st: st, keys: keys, dataDir: dataDir, outbound: out}
}

// gitPolicy is the policy go-git's http transport dials under. go-git
// keeps one transport per protocol for the whole process, so the policy is
// the process's too: the widest any Service was given (an installation has
// one; tests may make several).
var gitPolicy atomic.Pointer[outbound.Policy]

func init() {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		p := outbound.Policy{}
		if x := gitPolicy.Load(); x != nil {
			p = *x
		}
		return p.Dialer(30*time.Second).DialContext(ctx, network, addr)
	}
	c := githttp.NewClient(&http.Client{Transport: t})
	client.InstallProtocol("https", c)
	client.InstallProtocol("http", c)
}

// checkRemote applies the outbound policy to a repository's URL.
func (s *Service) checkRemote(ctx context.Context, rawURL string) error {
	if err := s.outbound.CheckGitURL(ctx, rawURL); err != nil {
		return alm.Invalid(map[string]string{"url": strings.TrimSuffix(err.Error(), ": "+outbound.ErrRefused.Error()) + "."})
	}
	return nil
}

// NewRepo is what connecting a repository takes.
type NewRepo struct {
	Name, URL, Branch string
	AuthKind          string // none, token or ssh
	Secret            string // the token or the SSH private key (PEM)
	// Host and HostAPI name the pull-request API (see alm.Repository).
	Host, HostAPI string
}

func sealContext(id int64) string { return "repository:" + strconv.FormatInt(id, 10) + ":credentials" }

func auth(kind, secretValue string) (transport.AuthMethod, error) {
	switch kind {
	case "", "none":
		return nil, nil
	case "token":
		return &githttp.BasicAuth{Username: "x-access-token", Password: secretValue}, nil
	case "ssh":
		k, err := gitssh.NewPublicKeys("git", []byte(secretValue), "")
		if err != nil {
			return nil, alm.Invalid(map[string]string{"secret": "That is not an SSH private key Trellis can use (PEM, without a passphrase)."})
		}
		return k, nil
	}
	return nil, alm.Invalid(map[string]string{"auth": "Choose none, token or ssh."})
}

// Connect mirrors the repository and records it. The mirror is cloned
// first: a wrong URL or credential ends in a clear message and nothing is
// saved.
func (s *Service) Connect(ctx context.Context, n NewRepo) (alm.Repository, error) {
	n.Name, n.URL, n.Branch = strings.TrimSpace(n.Name), strings.TrimSpace(n.URL), strings.TrimSpace(n.Branch)
	f := map[string]string{}
	if n.Name == "" {
		f["name"] = "Name the repository."
	}
	if u, err := url.Parse(n.URL); n.URL == "" || (err == nil && u.Scheme == "" && !strings.Contains(n.URL, "@")) {
		f["url"] = "Give the clone URL (https://… or git@host:org/repo.git)."
	}
	if (n.AuthKind == "token" || n.AuthKind == "ssh") && strings.TrimSpace(n.Secret) == "" {
		f["secret"] = "Give the token or key."
	}
	if len(f) > 0 {
		return alm.Repository{}, alm.Invalid(f)
	}
	if err := s.checkRemote(ctx, n.URL); err != nil {
		return alm.Repository{}, err
	}
	am, err := auth(n.AuthKind, strings.TrimSpace(n.Secret))
	if err != nil {
		return alm.Repository{}, err
	}
	root := filepath.Join(s.dataDir, "git")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return alm.Repository{}, err
	}
	tmp, err := os.MkdirTemp(root, "clone-")
	if err != nil {
		return alm.Repository{}, err
	}
	defer os.RemoveAll(tmp)
	repo, err := git.PlainCloneContext(ctx, tmp, true, &git.CloneOptions{URL: n.URL, Auth: am, Mirror: true})
	if err != nil {
		return alm.Repository{}, alm.Errorf(alm.CodeInvalid, "Could not clone %s: %s", n.URL, cloneError(err))
	}
	if n.Branch == "" {
		if head, err := repo.Reference(plumbing.HEAD, false); err == nil && head.Target().IsBranch() {
			n.Branch = head.Target().Short()
		}
	} else if _, err := repo.Reference(plumbing.NewBranchReferenceName(n.Branch), true); err != nil {
		return alm.Repository{}, alm.Invalid(map[string]string{"branch": "The repository has no branch " + n.Branch + "."})
	}
	sum := sha256.Sum256([]byte(n.URL + "\x00" + n.Name))
	mirror := filepath.Join(root, hex.EncodeToString(sum[:8])+".git")
	_ = os.RemoveAll(mirror)
	if err := os.Rename(tmp, mirror); err != nil {
		return alm.Repository{}, err
	}
	kind := n.AuthKind
	if kind == "" {
		kind = "none"
	}
	r, err := s.st.CreateRepository(ctx, store.NewRepository{Name: n.Name, URL: n.URL, AuthKind: kind, DefaultBranch: n.Branch, Mirror: mirror},
		func(id int64) (string, error) {
			if kind == "none" {
				return "", nil
			}
			return s.keys.Seal([]byte(strings.TrimSpace(n.Secret)), sealContext(id))
		})
	if err != nil {
		os.RemoveAll(mirror)
		return r, err
	}
	if n.Host != "" || n.HostAPI != "" {
		return s.SetHost(ctx, r.ID, n.Host, n.HostAPI)
	}
	return r, nil
}

// SetHost says which git host's pull-request API the repository uses; a
// self-hosted API base must be reachable under the outbound policy.
func (s *Service) SetHost(ctx context.Context, id int64, kind, api string) (alm.Repository, error) {
	kind, api = strings.TrimSpace(kind), strings.TrimSpace(api)
	if api != "" {
		if u, err := url.Parse(api); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return alm.Repository{}, alm.Invalid(map[string]string{"host_api": "Give the API base as an https URL, e.g. https://git.example.com/api/v3."})
		}
		if err := s.checkRemote(ctx, api); err != nil {
			return alm.Repository{}, err
		}
	}
	return s.st.SetRepositoryHost(ctx, id, kind, api)
}

// Host is the repository's pull-request API, or nil when it has none (no
// token, a host Trellis cannot tell, or pull requests turned off).
func (s *Service) Host(ctx context.Context, id int64) (githost.Host, error) {
	r, err := s.st.RepositoryByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.HostKind == "none" || r.AuthKind != "token" {
		return nil, nil
	}
	_, sealed, err := s.st.RepositoryAccess(ctx, id)
	if err != nil {
		return nil, err
	}
	token, err := s.keys.Open(sealed, sealContext(id))
	if err != nil {
		return nil, err
	}
	h, err := githost.For(r.URL, string(token), githost.Options{Kind: r.HostKind, APIBase: r.HostAPI})
	if errors.Is(err, githost.ErrUnknownHost) {
		return nil, nil
	}
	return h, err
}

// cloneError says why a clone failed without echoing credentials.
func cloneError(err error) string {
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return "the server refused the credentials."
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return "there is no repository there (or the credentials cannot see it)."
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return "the repository is empty."
	}
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.Index(msg[i+3:], "@"); j >= 0 && !strings.Contains(msg[i+3:i+3+j], "/") {
			msg = msg[:i+3] + msg[i+4+j:]
		}
	}
	return msg + "."
}

func (s *Service) open(ctx context.Context, id int64) (*git.Repository, string, transport.AuthMethod, error) {
	r, err := s.st.RepositoryByID(ctx, id)
	if err != nil {
		return nil, "", nil, err
	}
	mirror, sealed, err := s.st.RepositoryAccess(ctx, id)
	if err != nil {
		return nil, "", nil, err
	}
	if err := s.checkRemote(ctx, r.URL); err != nil {
		return nil, "", nil, err
	}
	secretValue := ""
	if sealed != "" {
		raw, err := s.keys.Open(sealed, sealContext(id))
		if err != nil {
			return nil, "", nil, alm.Errorf(alm.CodeConflict, "The credential of %s cannot be opened with this installation's key.", r.Name)
		}
		secretValue = string(raw)
	}
	am, err := auth(r.AuthKind, secretValue)
	if err != nil {
		return nil, "", nil, err
	}
	repo, err := git.PlainOpen(mirror)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open mirror of %s: %w", r.Name, err)
	}
	return repo, mirror, am, nil
}

// Fetch brings the mirror up to date.
func (s *Service) Fetch(ctx context.Context, id int64) error {
	repo, _, am, err := s.open(ctx, id)
	if err != nil {
		return err
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: am, Prune: true, Force: true,
		RefSpecs: []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		err = nil
	}
	msg := ""
	if err != nil {
		msg = "Could not fetch: " + cloneError(err)
		err = alm.Errorf(alm.CodeInvalid, "%s", msg)
	}
	if serr := s.st.SetRepositoryFetched(ctx, id, msg); serr != nil && err == nil {
		err = serr
	}
	return err
}

// Branches lists the mirror's branches.
func (s *Service) Branches(ctx context.Context, id int64) ([]string, error) {
	repo, _, _, err := s.open(ctx, id)
	if err != nil {
		return nil, err
	}
	it, err := repo.Branches()
	if err != nil {
		return nil, err
	}
	var out []string
	err = it.ForEach(func(r *plumbing.Reference) error {
		out = append(out, r.Name().Short())
		return nil
	})
	return out, err
}

// Snapshot fetches and reads the SFDX project at ref with the metadata
// engine into the snapshot row id: every component hashed, new content
// stored as blobs.
func (s *Service) Snapshot(ctx context.Context, id, repoID int64, ref string) error {
	if err := s.Fetch(ctx, repoID); err != nil {
		return err
	}
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return err
	}
	g, err := gitrepo.Open(mirror)
	if err != nil {
		return err
	}
	defer g.Close()
	fsys, err := g.FS(ref)
	if err != nil {
		return alm.Errorf(alm.CodeInvalid, "There is no branch or commit %q in the repository.", ref)
	}
	proj, err := metadata.LoadProject(fsys)
	if err != nil {
		return alm.Errorf(alm.CodeInvalid, "%s is not an SFDX project at %s: %v", "The repository", ref, err)
	}
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return alm.Errorf(alm.CodeInvalid, "The project at %s could not be read: %v", ref, err)
	}
	var m snapshot.Manifest
	var blobs []store.Blob
	for _, c := range res.Set.Components() {
		one := metadata.NewSet()
		one.Add(c)
		files, err := metadata.WriteMetadataFormat(one)
		if err != nil {
			return fmt.Errorf("lay out %s: %w", c.Key(), err)
		}
		m = append(m, snapshot.Entry{Type: c.Type.Name, Name: c.Name, Hash: c.Hash})
		blobs = append(blobs, store.Blob{Hash: c.Hash, Data: snapshot.EncodeFiles(files)})
	}
	added, err := s.st.PutNewBlobs(ctx, blobs)
	if err != nil {
		return err
	}
	m.Sort()
	return s.st.FinishSnapshot(ctx, id, m, added, nil)
}

// Commit is what CommitCapture needs of a captured component.
type Commit struct {
	Key, Title string   // the work item's key and title, for the branch and message
	Contents   [][]byte // each captured component's stored content (snapshot.EncodeFiles)
	// Branch is the work item's own branch when it has one (and Base
	// where a new one starts); empty means feature/<key> from the default
	// branch.
	Branch, Base string
}

// CommitCapture writes captured components onto the branch
// feature/<key> (or the work item's own branch; made from the default
// branch, or Base, when new) as the project there lays them out, commits
// with the work item's key in the message and pushes it to the
// repository. It returns the branch and the commit id.
func (s *Service) CommitCapture(ctx context.Context, repoID int64, c Commit) (string, string, error) {
	r, err := s.st.RepositoryByID(ctx, repoID)
	if err != nil {
		return "", "", err
	}
	branch := "feature/" + c.Key
	if c.Branch != "" {
		branch = c.Branch
	}
	base := r.DefaultBranch
	if c.Base != "" {
		base = c.Base
	}
	if err := s.StartBranch(ctx, repoID, branch, base); err != nil {
		return "", "", err
	}
	files := map[string][]byte{}
	for _, content := range c.Contents {
		for p, b := range snapshot.DecodeFiles(content) {
			files[p] = b
		}
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return "", "", fmt.Errorf("read captured content: %w", err)
	}
	who := alm.ActorFrom(ctx).Label
	commit, err := s.CommitComponents(ctx, repoID, branch, fmt.Sprintf("%s: %s\n\nCaptured in Trellis by %s: %d component(s).", c.Key, c.Title, who, res.Set.Len()),
		res.Set.Components(), nil)
	if alm.ErrorCode(err) == alm.CodeConflict && strings.HasPrefix(alm.ErrorMessage(err), "Nothing to commit") {
		return "", "", alm.Errorf(alm.CodeInvalid, "Nothing to commit: %s already holds these components as captured.", branch)
	}
	if err != nil {
		return "", "", err
	}
	return branch, commit, nil
}
