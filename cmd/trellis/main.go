// Command trellis is the whole of Trellis in one binary: the web server and
// workers, migrations, and the admin and CI command lines.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if p := os.Getenv("TRELLIS_CPUPROFILE"); p != "" {
		// For measuring the CLI itself (make bench, performance reports).
		if f, err := os.Create(p); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "trellis:", err)
		os.Exit(exitCode(err))
	}
}
