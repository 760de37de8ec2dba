// Package orgsim simulates Salesforce orgs over real HTTP, answering with
// the same paths, envelopes, JSON, status progressions and error codes as
// Salesforce for what Trellis does with an org: OAuth, the Metadata API
// (SOAP and REST), Apex tests through the Tooling API, REST queries, Bulk
// API 2.0 queries and sObject Collections writes. Any Salesforce client
// pointed at it should work for these operations.
//
// Each org listens on its own address (its instance and login URL), keeps
// its metadata and records across restarts when given a directory, and
// has simulator-only endpoints under /_orgsim/ to change a component "in
// Setup" and to inject faults.
package orgsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator.
type Options struct {
	Orgs []string // names; default dev, uat, prod
	// DataDir keeps each org's state in DataDir/<name>; "" keeps it in
	// memory.
	DataDir string
	// Addr is where the first org listens; the others take the following
	// ports. Port 0 gives every org a free port. Default 127.0.0.1:0.
	Addr string
	// Step is how long each stage of an asynchronous operation (deploy,
	// retrieve, test run, bulk job) lasts. Default 400ms.
	Step   time.Duration
	Logger *slog.Logger
	// Trace logs every request (method, path, status, time) to Logger, for
	// seeing what a client asks.
	Trace bool
	// TLS serves https with a certificate from the simulator's own CA
	// (kept in DataDir, or a temporary directory), named in each org's
	// Info as CAFile.
	TLS bool
}

// Sim is a set of running simulated orgs.
type Sim struct {
	opts    Options
	orgs    []*Org
	servers []*http.Server
	wg      sync.WaitGroup
	log     *slog.Logger
	caFile  string
	tmpDir  string // made for the CA when there is no DataDir
}

// Start creates (or reopens) the orgs and serves them.
func Start(opts Options) (*Sim, error) {
	if len(opts.Orgs) == 0 {
		opts.Orgs = []string{"dev", "uat", "prod"}
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Step <= 0 {
		opts.Step = 400 * time.Millisecond
	}
	s := &Sim{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	host, portStr, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("orgsim: address %q: %w", opts.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("orgsim: port %q: %w", portStr, err)
	}
	var tlsConfig *tls.Config
	if opts.TLS {
		dir := opts.DataDir
		if dir == "" {
			if s.tmpDir, err = os.MkdirTemp("", "orgsim-ca"); err != nil {
				return nil, err
			}
			dir = s.tmpDir
		}
		if tlsConfig, s.caFile, err = serverTLS(dir, host); err != nil {
			s.Close()
			return nil, fmt.Errorf("orgsim: TLS: %w", err)
		}
	}
	seen := map[string]bool{}
	for i, name := range opts.Orgs {
		name = strings.TrimSpace(name)
		if !validName(name) || seen[strings.ToLower(name)] {
			s.Close()
			return nil, fmt.Errorf("orgsim: org name %q: use letters, digits, - and _, each name once", name)
		}
		seen[strings.ToLower(name)] = true
		dir := ""
		if opts.DataDir != "" {
			dir = filepath.Join(opts.DataDir, name)
		}
		o, err := newOrg(s, name, dir)
		if err != nil {
			s.Close()
			return nil, err
		}
		p := 0
		if port != 0 {
			p = port + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("orgsim: org %s: %w", name, err)
		}
		addr := ln.Addr().(*net.TCPAddr)
		h := host
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "127.0.0.1"
		}
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		scheme := "http"
		if tlsConfig != nil {
			scheme = "https"
			ln = tls.NewListener(ln, tlsConfig)
		}
		o.BaseURL = fmt.Sprintf("%s://%s:%d", scheme, h, addr.Port)
		var handler http.Handler = o.handler()
		if opts.Trace {
			handler = trace(s.log.With("org", name), handler)
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		s.orgs = append(s.orgs, o)
		s.servers = append(s.servers, srv)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("orgsim: serving", "org", name, "error", err)
			}
		}()
	}
	return s, nil
}

func validName(n string) bool {
	if n == "" || len(n) > 40 {
		return false
	}
	for _, c := range n {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Orgs returns the simulated orgs in the order they were named.
func (s *Sim) Orgs() []*Org { return s.orgs }

// Org returns the org called name, or nil.
func (s *Sim) Org(name string) *Org {
	for _, o := range s.orgs {
		if strings.EqualFold(o.Name, name) {
			return o
		}
	}
	return nil
}

// Close stops serving, waits for running jobs to settle and saves state.
func (s *Sim) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	s.wg.Wait()
	for _, o := range s.orgs {
		o.mu.Lock()
		errs = append(errs, o.saveLocked())
		o.mu.Unlock()
	}
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
	return errors.Join(errs...)
}

// trace logs each request once answered.
func trace(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.RequestURI(), "status", rec.status, "ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// Flush keeps streaming answers (long polls) streaming through the trace.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
