// Command metaperf measures the metadata engine side by side with the
// tools teams use today, on the generated benchmark project (bench/synth:
// ~56,000 files, 40+ types, 1,000 commits), and prints the ratios:
//
//   - trellis meta delta vs sfdx-git-delta and vs git diff --name-status,
//     over the whole 1,000-commit range;
//   - trellis meta manifest vs source-deploy-retrieve's manifest of the
//     same project, and whether they name the same members;
//   - trellis meta convert --to metadata vs source-deploy-retrieve;
//   - trellis meta delta's peak memory on a small and a large repository
//     for the same ten commits (it should follow the change, not the size).
//
// Each figure is the median of -runs runs. The npm tools are installed
// into a cache as bench/metacompare does; without npm the ratios against
// them are skipped and said so.
//
//	go run ./bench/metaperf
package main

import (
	"encoding/xml"
	"flag"
	"fmt"
	"github.com/trellis-alm/trellis/bench/oracle"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/trellis-alm/trellis/bench/synth"
)

func main() {
	runs := flag.Int("runs", 5, "runs per measurement (the median is reported)")
	cache := flag.String("cache", oracle.DefaultCache(), "where the npm tools are installed")
	trellis := flag.String("trellis", "bin/trellis", "the trellis binary")
	flag.Parse()
	bin, err := filepath.Abs(*trellis)
	check(err)
	root := filepath.Join(os.TempDir(), "trellis-bench")
	fmt.Println("generating the benchmark projects (reused when present)…")
	large, err := synth.Generate(root, synth.Large)
	check(err)
	small, err := synth.Generate(root, synth.Small)
	check(err)
	fmt.Printf("large: %d files, %d commits, %d files changed across them; small: %d files\n\n", large.Files, large.Commits, large.Changed, small.Files)

	oracle, oracleErr := oracle.Install(*cache)
	out := filepath.Join(os.TempDir(), "trellis-metaperf")
	r := large.Dir

	git := measure(*runs, "git", "-C", r, "diff", "--name-status", large.First, large.Head)
	delta := measure(*runs, bin, "meta", "delta", "--repo", r, "--from", large.First, "--to", large.Head, "--out", filepath.Join(out, "delta"))
	fmt.Printf("delta over %d commits:\n", large.Commits)
	fmt.Printf("  git diff --name-status     %8s\n", git.wall)
	fmt.Printf("  trellis meta delta         %8s  (%.1fx git diff; goal: within 3x)\n", delta.wall, ratio(delta.wall, git.wall))
	var sgd, sdr result
	if oracleErr == nil {
		node := filepath.Join(oracle, "node_modules", ".bin", "node")
		sgd = measure(*runs, node, filepath.Join(oracle, "sgd.mjs"), r, large.First, large.Head, filepath.Join(out, "sgd"))
		fmt.Printf("  sfdx-git-delta             %8s  (trellis is %.1fx faster; goal: 10x)\n", sgd.wall, ratio(sgd.wall, delta.wall))
	} else {
		fmt.Printf("  sfdx-git-delta             skipped: %v\n", oracleErr)
	}

	// The manifest of the whole project: names only, no content to hash.
	man := measure(*runs, bin, "meta", "manifest", r)
	fmt.Printf("\nmanifest of all %d files:\n", large.Files)
	fmt.Printf("  trellis meta manifest      %8s\n", man.wall)
	if oracleErr == nil {
		node := filepath.Join(oracle, "node_modules", ".bin", "node")
		sdrMan := measure(*runs, node, filepath.Join(oracle, "sdr.mjs"), "manifest", r)
		fmt.Printf("  source-deploy-retrieve     %8s  (trellis is %.1fx faster; goal: 10x)\n", sdrMan.wall, ratio(sdrMan.wall, man.wall))
		a, err := exec.Command(bin, "meta", "manifest", r).Output()
		check(err)
		b, err := exec.Command(node, filepath.Join(oracle, "sdr.mjs"), "manifest", r).Output()
		check(err)
		only1, only2 := manifestDiff(a, b)
		fmt.Printf("  same members: %v (only in trellis: %d, only in SDR: %d)\n", len(only1)+len(only2) == 0, len(only1), len(only2))
		for i, m := range append(only1, only2...) {
			if i == 10 {
				break
			}
			fmt.Printf("    differs: %s\n", m)
		}
	}

	// Writing ~19,000 files costs what the file system makes it cost, the
	// same for both tools; tmpfs shows the tools' own work.
	targets := []string{out}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		targets = append(targets, filepath.Join("/dev/shm", "trellis-metaperf"))
	}
	for _, dir := range targets {
		conv := measureInto(*runs, filepath.Join(dir, "convert-trellis"), bin, "meta", "convert", "--to", "metadata", r, filepath.Join(dir, "convert-trellis"))
		fmt.Printf("\nconvert %d files to metadata format, writing into %s:\n", large.Files, dir)
		fmt.Printf("  trellis meta convert       %8s\n", conv.wall)
		if oracleErr == nil {
			node := filepath.Join(oracle, "node_modules", ".bin", "node")
			sdr = measureInto(*runs, filepath.Join(dir, "convert-sdr"), node, filepath.Join(oracle, "sdr.mjs"), "convert", r, filepath.Join(dir, "convert-sdr"))
			fmt.Printf("  source-deploy-retrieve     %8s  (trellis is %.1fx faster; goal: 10x)\n", sdr.wall, ratio(sdr.wall, conv.wall))
		}
		os.RemoveAll(dir)
	}

	ms := measure(*runs, bin, "meta", "delta", "--repo", small.Dir, "--from", small.Head+"~10", "--to", small.Head, "--out", filepath.Join(out, "small"))
	ml := measure(*runs, bin, "meta", "delta", "--repo", large.Dir, "--from", large.Head+"~10", "--to", large.Head, "--out", filepath.Join(out, "large"))
	fmt.Printf("\ndelta over the last 10 commits, peak memory (should not grow with the repository):\n")
	fmt.Printf("  small repository (%6d files)  %6.1f MB  %8s\n", small.Files, float64(ms.rssKB)/1024, ms.wall)
	fmt.Printf("  large repository (%6d files)  %6.1f MB  %8s\n", large.Files, float64(ml.rssKB)/1024, ml.wall)
}

type result struct {
	wall  time.Duration
	rssKB int64
}

// measure runs a command n times and returns the median wall time and the
// largest peak resident memory.
func measure(n int, name string, args ...string) result {
	return measureInto(n, "", name, args...)
}

// measureInto is measure for a command that writes into dir: before each
// run, untimed, dir is removed and the file system synced, so every run
// of every tool creates its files afresh with no write-back of an earlier
// run pending.
func measureInto(n int, dir, name string, args ...string) result {
	var walls []time.Duration
	var rss int64
	for i := 0; i < n; i++ {
		if dir != "" {
			check(os.RemoveAll(dir))
			syscall.Sync()
		}
		cmd := exec.Command(name, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %v: %v\n%s\n", name, args, err, out)
			os.Exit(1)
		}
		walls = append(walls, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rss {
			rss = ru.Maxrss
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	return result{wall: walls[len(walls)/2].Round(time.Millisecond), rssKB: rss}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "metaperf:", err)
		os.Exit(1)
	}
}

// manifestDiff lists the type/member pairs only one of two package.xml
// documents names.
func manifestDiff(a, b []byte) (onlyA, onlyB []string) {
	set := func(doc []byte) map[string]bool {
		var p struct {
			Types []struct {
				Members []string `xml:"members"`
				Name    string   `xml:"name"`
			} `xml:"types"`
		}
		check(xml.Unmarshal(doc, &p))
		out := map[string]bool{}
		for _, t := range p.Types {
			for _, m := range t.Members {
				out[t.Name+" "+m] = true
			}
		}
		return out
	}
	sa, sb := set(a), set(b)
	for k := range sa {
		if !sb[k] {
			onlyA = append(onlyA, "trellis: "+k)
		}
	}
	for k := range sb {
		if !sa[k] {
			onlyB = append(onlyB, "SDR: "+k)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return onlyA, onlyB
}
