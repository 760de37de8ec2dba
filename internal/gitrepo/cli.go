package gitrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// cli reads a repository through the git binary: `git diff-tree` for the
// changed paths and one long-lived `git cat-file --batch` for trees and
// blobs. On wide diffs it is several times faster than walking trees with
// go-git (measured: 1,000 commits over 56,000 files, 0.3 s against 0.7 s).
type cli struct {
	dir     string
	hashLen int      // bytes of an object id in tree entries: 20 (SHA-1) or 32 (SHA-256)
	commits sync.Map // revision → commit id
	// Two cat-file processes, so the two sides of a diff load in
	// parallel; FS hands them out in turn.
	procs [2]*catFile
	next  atomic.Uint32
}

// catFile is one long-lived `git cat-file --batch` process.
type catFile struct {
	dir    string
	lastID string // id in the last answer; guarded by mu

	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// proc picks the cat-file process for the next FS.
func (c *cli) proc() *catFile { return c.procs[c.next.Add(1)%2] }

func newCLI(dir string) (*cli, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, err
	}
	c := &cli{dir: dir, hashLen: 20, procs: [2]*catFile{{dir: dir}, {dir: dir}}}
	// Read the object format from the config rather than spawn git for it.
	if cfg, err := os.ReadFile(filepath.Join(dir, "config")); err == nil && sha256Config.Match(cfg) {
		c.hashLen = 32
	}
	return c, nil
}

func (c *cli) run(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", c.dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(msg)
	}
	return string(out), nil
}

// commit resolves rev to a commit id.
func (c *cli) commit(rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("revision %q: not a revision", rev)
	}
	if id, ok := c.commits.Load(rev); ok {
		return id.(string), nil
	}
	if strings.ContainsAny(rev, "\n\x00") || rev == "" {
		return "", fmt.Errorf("revision %q: %w", rev, errRevisionNotFound)
	}
	// cat-file resolves the revision and names the commit in its answer,
	// sparing a git process per revision.
	id, typ, ok, err := c.procs[0].resolve(rev + "^{commit}")
	if err != nil {
		return "", err
	}
	if !ok || typ != "commit" {
		return "", fmt.Errorf("revision %q: %w", rev, errRevisionNotFound)
	}
	c.commits.Store(rev, id)
	return id, nil
}

var errRevisionNotFound = errors.New("reference not found")

var sha256Config = regexp.MustCompile(`(?im)^\s*objectformat\s*=\s*sha256\s*$`)

// commits2 resolves two revisions with one git process, naming the one
// that does not exist when either is missing.
func (c *cli) commits2(from, to string) (string, string, error) {
	if strings.HasPrefix(from, "-") || strings.HasPrefix(to, "-") {
		if _, err := c.commit(from); err != nil {
			return "", "", err
		}
		_, err := c.commit(to)
		return "", "", err
	}
	a, err := c.commit(from)
	if err != nil {
		return "", "", err
	}
	b, err := c.commit(to)
	return a, b, err
}

func (c *cli) diff(from, to string) ([]Change, error) {
	a, err := c.commit(from)
	if err != nil {
		return nil, err
	}
	b, err := c.commit(to)
	if err != nil {
		return nil, err
	}
	out, err := c.run("diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", "--name-status", a, b)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", from, to, err)
	}
	fields := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	var changes []Change
	for i := 0; i+1 < len(fields); i += 2 {
		status, p := fields[i], fields[i+1]
		switch status {
		case "A":
			changes = append(changes, Change{'A', p})
		case "D":
			changes = append(changes, Change{'D', p})
		default: // M, T (type change)
			changes = append(changes, Change{'M', p})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, nil
}

// object fetches one object through cat-file --batch; ok is false when it
// does not exist.
func (c *catFile) object(spec string) (typ string, data []byte, ok bool, err error) {
	if strings.ContainsAny(spec, "\n") {
		return "", nil, false, fmt.Errorf("path %q has a newline, which git cat-file cannot look up", spec)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.start(); err != nil {
		return "", nil, false, err
	}
	if _, err := io.WriteString(c.in, spec+"\n"); err != nil {
		c.kill()
		return "", nil, false, err
	}
	typ, data, ok, err = c.readAnswer()
	if err != nil {
		c.kill()
	}
	return typ, data, ok, err
}

// objects fetches many blobs in one pipelined exchange: a writer sends
// every request while this goroutine reads the answers in order. Missing
// objects and non-blobs map to nil.
func (c *catFile) objects(specs []string) (map[string][]byte, error) {
	typed, err := c.typedObjects(specs)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(typed))
	for k, o := range typed {
		if o.typ == "blob" {
			out[k] = o.data
		} else {
			out[k] = nil
		}
	}
	return out, nil
}

type gitObject struct {
	typ  string
	data []byte
}

// typedObjects is objects for any object type; missing ones are absent.
// It pipelines through the long-lived cat-file process: a goroutine writes
// every request while the answers are read in order.
func (c *catFile) typedObjects(specs []string) (map[string]gitObject, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.start(); err != nil {
		return nil, err
	}
	writeErr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(c.in, 1<<16)
		for _, s := range specs {
			w.WriteString(s)
			w.WriteByte('\n')
		}
		writeErr <- w.Flush()
	}()
	got := make(map[string]gitObject, len(specs))
	var readErr error
	for _, s := range specs {
		typ, data, ok, err := c.readAnswer()
		if err != nil {
			readErr = err
			break
		}
		if ok {
			got[s] = gitObject{typ: typ, data: data}
		}
	}
	if err := <-writeErr; err != nil && readErr == nil {
		readErr = fmt.Errorf("git cat-file: %w", err)
	}
	if readErr != nil {
		c.kill()
		return nil, readErr
	}
	return got, nil
}

// start launches the long-lived cat-file process; c.mu must be held.
func (c *catFile) start() error {
	if c.cmd != nil {
		return nil
	}
	cmd := exec.Command("git", "-C", c.dir, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start git cat-file: %w", err)
	}
	c.cmd, c.in, c.out = cmd, in, bufio.NewReaderSize(out, 1<<20)
	return nil
}

// kill drops a cat-file process whose stream can no longer be trusted.
func (c *catFile) kill() {
	if c.cmd == nil {
		return
	}
	c.in.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.cmd = nil
}

// resolve looks an object up through cat-file and returns its id and type.
func (c *catFile) resolve(spec string) (id, typ string, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.start(); err != nil {
		return "", "", false, err
	}
	if _, err := io.WriteString(c.in, spec+"\n"); err != nil {
		c.kill()
		return "", "", false, err
	}
	typ, _, ok, err = c.readAnswer()
	if err != nil {
		c.kill()
	}
	return c.lastID, typ, ok, err
}

// readAnswer reads one cat-file --batch answer; c.mu must be held.
func (c *catFile) readAnswer() (typ string, data []byte, ok bool, err error) {
	header, err := c.out.ReadString('\n')
	if err != nil {
		return "", nil, false, fmt.Errorf("git cat-file: %w", err)
	}
	header = strings.TrimSuffix(header, "\n")
	if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
		return "", nil, false, nil
	}
	parts := strings.Fields(header)
	if len(parts) != 3 {
		return "", nil, false, fmt.Errorf("git cat-file: unexpected header %q", header)
	}
	size, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", nil, false, fmt.Errorf("git cat-file: unexpected header %q", header)
	}
	data = make([]byte, size+1)
	if _, err := io.ReadFull(c.out, data); err != nil {
		return "", nil, false, fmt.Errorf("git cat-file: %w", err)
	}
	c.lastID = parts[0]
	return parts[1], data[:size], true, nil
}

func (c *cli) close() error {
	return errors.Join(c.procs[0].close(), c.procs[1].close())
}

func (c *catFile) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return nil
	}
	c.in.Close()
	err := c.cmd.Wait()
	c.cmd = nil
	return err
}

// cliFS serves one commit's files through cat-file.
type cliFS struct {
	c      *cli
	proc   *catFile
	commit string
	mu     sync.Mutex
	dirs   map[string][]cliEntry
	cache  map[string][]byte // prefetched blobs; nil value: known missing
}

// PrefetchDirs lists many directories with one pipelined cat-file
// exchange per depth, instead of a round trip per directory.
func (f *cliFS) PrefetchDirs(dirs []string) error {
	byDepth := map[int]map[string]bool{}
	maxDepth := 0
	for _, d := range dirs {
		for p := d; p != "." && p != "" && fs.ValidPath(p); p = path.Dir(p) {
			n := strings.Count(p, "/")
			if byDepth[n] == nil {
				byDepth[n] = map[string]bool{}
			}
			byDepth[n][p] = true
			maxDepth = max(maxDepth, n)
		}
	}
	if _, err := f.readDir("."); err != nil {
		return nil // an empty tree: nothing below to prefetch
	}
	for depth := 0; depth <= maxDepth; depth++ {
		var todo []string
		for d := range byDepth[depth] {
			f.mu.Lock()
			_, cached := f.dirs[d]
			f.mu.Unlock()
			if !cached {
				todo = append(todo, d)
			}
		}
		if err := f.loadDirs(todo); err != nil {
			return err
		}
	}
	return nil
}

// Prefetch reads many files in one pipelined cat-file exchange, so the
// ReadFile calls that follow cost no round trips.
func (f *cliFS) Prefetch(names []string) error {
	ids := map[string]string{} // name → object id
	var specs []string
	for _, n := range names {
		f.mu.Lock()
		_, cached := f.cache[n]
		f.mu.Unlock()
		if cached || !fs.ValidPath(n) {
			continue
		}
		e, ok := f.entry(n)
		if !ok || e.mode == 0o40000 {
			continue
		}
		id := e.id()
		ids[n] = id
		specs = append(specs, id)
	}
	if len(specs) == 0 {
		return nil
	}
	got, err := f.proc.objects(specs)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, id := range ids {
		if b, ok := got[id]; ok {
			f.cache[n] = b
		}
	}
	return nil
}

type cliEntry struct {
	name string
	mode uint32
	raw  []byte // object id, binary (a slice of the tree object)
}

// id returns the entry's object id in hex, as cat-file wants it.
func (e cliEntry) id() string { return hexID(e.raw) }

func (f *cliFS) readDir(name string) ([]cliEntry, error) {
	f.mu.Lock()
	if e, ok := f.dirs[name]; ok {
		f.mu.Unlock()
		if e == nil {
			return nil, fs.ErrNotExist
		}
		return e, nil
	}
	f.mu.Unlock()
	spec := f.commit + "^{tree}"
	if name != "." {
		e, found := f.entry(name)
		if !found || e.mode != 0o40000 {
			f.mu.Lock()
			f.dirs[name] = nil
			f.mu.Unlock()
			return nil, fs.ErrNotExist
		}
		spec = e.id()
	}
	typ, data, ok, err := f.proc.object(spec)
	if err != nil {
		return nil, err
	}
	var entries []cliEntry
	if ok && typ == "tree" {
		entries, err = parseTree(data, f.c.hashLen)
		if err != nil {
			return nil, err
		}
		if entries == nil {
			entries = []cliEntry{}
		}
	}
	f.mu.Lock()
	f.dirs[name] = entries
	f.mu.Unlock()
	if entries == nil {
		return nil, fs.ErrNotExist
	}
	return entries, nil
}

// parseTree reads git's binary tree format: "<mode> <name>\0<id>" repeated.
func parseTree(data []byte, hashLen int) ([]cliEntry, error) {
	out := make([]cliEntry, 0, len(data)/(hashLen+24)+1)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+1+hashLen {
			return nil, errors.New("malformed tree object")
		}
		mode, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return nil, errors.New("malformed tree object")
		}
		// The name shares the tree object's bytes, which are never
		// modified: a 3,000-entry folder costs no 3,000 copies.
		name := unsafe.String(&data[sp+1], nul-sp-1)
		out = append(out, cliEntry{name: name, mode: uint32(mode), raw: data[nul+1 : nul+1+hashLen]})
		data = data[nul+1+hashLen:]
	}
	// git orders a directory "a" as if it were "a/": almost always the
	// same order; re-sort only when it is not.
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].name < out[j].name }) {
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	}
	return out, nil
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func fsMode(m uint32) fs.FileMode {
	switch m {
	case 0o40000:
		return fs.ModeDir | 0o755
	case 0o120000:
		return fs.ModeSymlink | 0o777
	case 0o160000:
		return fs.ModeIrregular
	case 0o100755:
		return 0o755
	}
	return 0o644
}

func (f *cliFS) entry(name string) (cliEntry, bool) {
	if name == "." {
		return cliEntry{name: ".", mode: 0o40000}, true
	}
	entries, err := f.readDir(path.Dir(name))
	if err != nil {
		return cliEntry{}, false
	}
	base := path.Base(name)
	i := sort.Search(len(entries), func(i int) bool { return entries[i].name >= base })
	if i < len(entries) && entries[i].name == base {
		return entries[i], true
	}
	return cliEntry{}, false
}

// Open implements fs.FS.
func (f *cliFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := f.entry(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	info := cliInfo{name: path.Base(name), mode: fsMode(e.mode)}
	if info.mode.IsDir() {
		return &cliFile{info: info, r: bytes.NewReader(nil)}, nil
	}
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	info.size = int64(len(data))
	return &cliFile{info: info, r: bytes.NewReader(data)}, nil
}

// ReadFile implements fs.ReadFileFS.
func (f *cliFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	b, cached := f.cache[name]
	f.mu.Unlock()
	if cached {
		if b == nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
		}
		return b, nil
	}
	e, found := f.entry(name)
	if !found || e.mode == 0o40000 {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	typ, data, ok, err := f.proc.object(e.id())
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if !ok || typ != "blob" {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return data, nil
}

// Stat implements fs.StatFS from the directory listing, without reading
// the file.
func (f *cliFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := f.entry(name)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return cliInfo{name: path.Base(name), mode: fsMode(e.mode)}, nil
}

// ReadDir implements fs.ReadDirFS.
func (f *cliFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	entries, err := f.readDir(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	// One allocation for the whole listing, not one per entry: folders
	// of thousands of fields are listed on every delta.
	infos := make([]cliInfo, len(entries))
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		infos[i] = cliInfo{name: e.name, mode: fsMode(e.mode)}
		out[i] = &infos[i]
	}
	return out, nil
}

type cliInfo struct {
	name string
	mode fs.FileMode
	size int64
}

func (i cliInfo) Name() string               { return i.name }
func (i cliInfo) Size() int64                { return i.size }
func (i cliInfo) Mode() fs.FileMode          { return i.mode }
func (i cliInfo) ModTime() time.Time         { return time.Time{} }
func (i cliInfo) IsDir() bool                { return i.mode.IsDir() }
func (i cliInfo) Sys() any                   { return nil }
func (i cliInfo) Type() fs.FileMode          { return i.mode.Type() }
func (i cliInfo) Info() (fs.FileInfo, error) { return i, nil }

type cliFile struct {
	info cliInfo
	r    *bytes.Reader
}

func (f *cliFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *cliFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *cliFile) Close() error               { return nil }

// diffFS compares two commits breadth-first through cat-file: one batch of
// tree reads per directory level, unchanged subtrees skipped by id. The
// directories it reads stay cached in the two returned file systems, so the
// caller's later reads of changed directories cost nothing more.
func (c *cli) diffFS(from, to string) ([]Change, *cliFS, *cliFS, error) {
	a, b, err := c.commits2(from, to)
	if err != nil {
		return nil, nil, nil, err
	}
	fa := &cliFS{c: c, proc: c.procs[0], commit: a, dirs: map[string][]cliEntry{}, cache: map[string][]byte{}}
	fb := &cliFS{c: c, proc: c.procs[1], commit: b, dirs: map[string][]cliEntry{}, cache: map[string][]byte{}}
	if a == b {
		return nil, fa, fb, nil
	}
	for _, f := range []*cliFS{fa, fb} {
		if _, err := f.readDir("."); err != nil {
			return nil, nil, nil, fmt.Errorf("tree of %s: %w", f.commit, err)
		}
	}
	var changes []Change
	level := []pendingDir{{dir: ".", inA: true, inB: true}}
	for len(level) > 0 {
		var next []pendingDir
		for _, p := range level {
			ea, eb := fa.dirs[p.dir], fb.dirs[p.dir]
			i, j := 0, 0
			for i < len(ea) || j < len(eb) {
				var x, y *cliEntry
				switch {
				case j >= len(eb) || (i < len(ea) && ea[i].name < eb[j].name):
					x = &ea[i]
					i++
				case i >= len(ea) || eb[j].name < ea[i].name:
					y = &eb[j]
					j++
				default:
					x, y = &ea[i], &eb[j]
					i++
					j++
				}
				name := x.name2(y)
				child := name
				if p.dir != "." {
					child = p.dir + "/" + name
				}
				xDir, yDir := x != nil && x.mode == 0o40000, y != nil && y.mode == 0o40000
				if x != nil && y != nil && x.mode == y.mode && bytes.Equal(x.raw, y.raw) {
					continue
				}
				if xDir || yDir {
					next = append(next, pendingDir{dir: child, inA: xDir, inB: yDir})
				}
				if x != nil && !xDir && x.mode != 0o160000 {
					if y != nil && !yDir && y.mode != 0o160000 {
						changes = append(changes, Change{'M', child})
						continue
					}
					changes = append(changes, Change{'D', child})
				}
				if y != nil && !yDir && y.mode != 0o160000 {
					changes = append(changes, Change{'A', child})
				}
			}
		}
		if err := c.loadLevel(next, fa, fb); err != nil {
			return nil, nil, nil, err
		}
		level = next
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, fa, fb, nil
}

func (e *cliEntry) name2(other *cliEntry) string {
	if e != nil {
		return e.name
	}
	return other.name
}

// pendingDir is a directory to compare at the next level, with the sides
// that have it.
type pendingDir struct {
	dir      string
	inA, inB bool
}

// loadLevel reads the directories of the next level that each side has,
// each side in one batch on its own cat-file process, both at once, and
// caches them in that side's file system.
func (c *cli) loadLevel(level []pendingDir, fa, fb *cliFS) error {
	var sides [2][]string
	for _, p := range level {
		for i, in := range []bool{p.inA, p.inB} {
			if in {
				sides[i] = append(sides[i], p.dir)
			} else {
				[]*cliFS{fa, fb}[i].dirs[p.dir] = nil
			}
		}
	}
	var wg sync.WaitGroup
	var errs [2]error
	for i, f := range []*cliFS{fa, fb} {
		if len(sides[i]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.loadDirs(sides[i])
		}()
	}
	wg.Wait()
	return errors.Join(errs[0], errs[1])
}

// loadDirs lists dirs (whose parents are listed) in one batch.
func (f *cliFS) loadDirs(dirs []string) error {
	ids := make(map[string]string, len(dirs))
	specs := make([]string, 0, len(dirs))
	for _, d := range dirs {
		e, ok := f.entry(d)
		if !ok || e.mode != 0o40000 {
			f.setDir(d, nil)
			continue
		}
		id := e.id()
		ids[d] = id
		specs = append(specs, id)
	}
	if len(specs) == 0 {
		return nil
	}
	got, err := f.proc.typedObjects(specs)
	if err != nil {
		return err
	}
	for d, id := range ids {
		o, ok := got[id]
		if !ok || o.typ != "tree" {
			f.setDir(d, nil)
			continue
		}
		entries, err := parseTree(o.data, f.c.hashLen)
		if err != nil {
			return err
		}
		if entries == nil {
			entries = []cliEntry{}
		}
		f.setDir(d, entries)
	}
	return nil
}

func (f *cliFS) setDir(d string, entries []cliEntry) {
	f.mu.Lock()
	f.dirs[d] = entries
	f.mu.Unlock()
}
