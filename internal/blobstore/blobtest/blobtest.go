// Package blobtest runs a real S3-compatible server (SeaweedFS's `weed`)
// for tests: TRELLIS_TEST_WEED names the binary, or `weed` on PATH.
package blobtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/trellis-alm/trellis/internal/blobstore"
)

// Server is a running S3 server.
type Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	cmd       *exec.Cmd
}

const accessKey, secretKey = "trellis-test", "trellis-test-secret-key"

// Binary returns the weed binary tests use, or "" when there is none.
func Binary() string {
	if b := os.Getenv("TRELLIS_TEST_WEED"); b != "" {
		return b
	}
	b, _ := exec.LookPath("weed")
	return b
}

// Start runs a server in dir until stop is called. A missing binary is a
// skip, or a failure when TRELLIS_TEST_WEED_REQUIRED is set.
func Start(tb testing.TB, dir string) (*Server, func()) {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("TRELLIS_TEST_WEED_REQUIRED") != "" {
			tb.Fatal("no S3 server: set TRELLIS_TEST_WEED to a SeaweedFS weed binary")
		}
		tb.Skip("no S3 server: set TRELLIS_TEST_WEED to a SeaweedFS weed binary to run the object storage tests")
	}
	srv, stop, err := Run(bin, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, stop
}

// Run starts the weed binary bin as an S3 server keeping its data in dir,
// and waits until it answers (for benchmarks; tests use Start). A server
// that dies while starting (another process took one of its ports in
// between) is started again on other ports.
func Run(bin, dir string) (*Server, func(), error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var srv *Server
		var stop func()
		if srv, stop, err = runOnce(bin, dir); err == nil {
			return srv, stop, nil
		}
	}
	return nil, nil, err
}

func runOnce(bin, dir string) (*Server, func(), error) {
	cfg := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`{"identities":[{"name":"trellis","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, accessKey, secretKey)), 0o600); err != nil {
		return nil, nil, err
	}
	// Eight distinct ports: HTTP and gRPC for master, volume, filer and
	// S3, named explicitly (weed's default gRPC port is HTTP + 10000).
	ports, err := freePorts(8)
	if err != nil {
		return nil, nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	s3 := ports[3]
	cmd := exec.Command(bin, "server", "-dir="+dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+p(0), "-master.port.grpc="+p(4), "-volume.port="+p(1), "-volume.port.grpc="+p(5),
		"-filer.port="+p(2), "-filer.port.grpc="+p(6), "-s3", "-s3.port="+p(3), "-s3.port.grpc="+p(7),
		"-s3.config="+cfg, "-volume.max=0", "-master.volumeSizeLimitMB=64", "-master.telemetry=false")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, _ := os.Create(filepath.Join(dir, "weed.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	srv := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(s3), AccessKey: accessKey, SecretKey: secretKey, cmd: cmd}
	stop := func() { _ = cmd.Process.Kill(); <-exited; logf.Close() }
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(srv.Endpoint + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				return srv, stop, nil
			}
		}
		select {
		case <-exited:
			logf.Close()
			log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
			return nil, nil, fmt.Errorf("the S3 server stopped while starting: %s", tail(log, 2000))
		default:
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
			return nil, nil, fmt.Errorf("the S3 server did not start: %v\n%s", err, tail(log, 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Bucket makes a new bucket and returns settings for a store in it.
func (s *Server) Bucket(tb testing.TB, name, prefix string) blobstore.Settings {
	tb.Helper()
	set, err := s.MakeBucket(name, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// MakeBucket is Bucket for benchmarks.
func (s *Server) MakeBucket(name, prefix string) (blobstore.Settings, error) {
	c, err := s.client()
	if err != nil {
		return blobstore.Settings{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err = c.MakeBucket(ctx, name, minio.MakeBucketOptions{})
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			err = nil
		}
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(300 * time.Millisecond) // volumes still coming up
	}
	if err != nil {
		return blobstore.Settings{}, fmt.Errorf("make bucket %s: %w", name, err)
	}
	return blobstore.Settings{URL: "s3://" + name + "/" + prefix, Endpoint: s.Endpoint, Region: "us-east-1", AccessKey: s.AccessKey, SecretKey: s.SecretKey}, nil
}

// Client is a raw S3 client of the server, for tests that change objects
// behind a store's back.
func (s *Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	c, err := s.client()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (s *Server) client() (*minio.Client, error) {
	return minio.New(s.Endpoint[len("http://"):], &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
}

// freePorts returns n distinct ports free now: every listener is held
// until all are chosen, so none is handed out twice.
func freePorts(n int) ([]int, error) {
	var out []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		held = append(held, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

var shared struct {
	once sync.Once
	srv  *Server
	stop func()
	dir  string
}

// Shared returns the test binary's one server, started on first use (a
// skip, or a failure when one is required, without a binary). Call
// StopShared from TestMain after the tests ran.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		if Binary() == "" {
			return
		}
		dir, err := os.MkdirTemp("", "weed")
		if err != nil {
			tb.Fatal(err)
		}
		shared.dir = dir
		shared.srv, shared.stop = Start(tb, dir)
	})
	if shared.srv == nil {
		Start(tb, tb.TempDir()) // skips, or fails when the server is required
		tb.FailNow()
	}
	return shared.srv
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	if shared.stop != nil {
		shared.stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}
