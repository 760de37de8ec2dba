package pgembed

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// runAs is the identity the server processes run under.
type runAs struct {
	uid, gid uint32
	name     string
	switched bool // true when we run the server as another user than ourselves
}

// serverUser picks who runs the server: ourselves, or when we are root (which
// postgres refuses) the named system user, then "postgres", then "nobody".
func serverUser(name string) (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid()), name: "self"}, nil
	}
	names := []string{"postgres", "nobody"}
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		u, err := user.Lookup(n)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return runAs{uid: uint32(uid), gid: uint32(gid), name: n, switched: true}, nil
	}
	return runAs{}, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, but none of the users %v exists to run it; create one (useradd --system postgres) or run Trellis as an ordinary user", names)
}

// sysProcAttr returns process attributes that run a child as u, in its own
// process group (so a terminal's Ctrl-C reaches only Trellis, which then
// stops the server in order), and stop it if Trellis dies.
func (u runAs) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if u.switched {
		attr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid}
	}
	return attr
}

// chown gives path to the server user when we switch users.
func (u runAs) chown(path string) error {
	if !u.switched {
		return nil
	}
	return os.Chown(path, int(u.uid), int(u.gid))
}

// canTraverse reports whether u can reach dir: every ancestor must grant it
// search (x) permission. Root switching to an unprivileged user cannot reach
// into a 0700 home directory, for instance.
func (u runAs) canTraverse(dir string) bool {
	if !u.switched {
		return true
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			st, ok := fi.Sys().(*syscall.Stat_t)
			if ok && !searchable(fi.Mode().Perm(), st, u) {
				return false
			}
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

func searchable(perm os.FileMode, st *syscall.Stat_t, u runAs) bool {
	switch {
	case st.Uid == u.uid:
		return perm&0o100 != 0
	case st.Gid == u.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
