package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/vantage-bgp/vantage/config"
)

func init() {
	register("reload", "make a running collector apply its changed config file's collector.peers (SIGHUP)", runReload)
}

// runReload checks the config file, if given, and sends SIGHUP to the
// collector whose pid `collector run -pidfile` wrote.
func runReload(args []string) error {
	fs := flag.NewFlagSet("collector reload", flag.ContinueOnError)
	pidFile := fs.String("pidfile", "", "the `file` the running collector was given as `collector run -pidfile` (required)")
	cfgPath := fs.String("config", "", "check this config `file` (the one the collector runs with) before signalling; a bad one is reported and not sent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *pidFile == "" {
		return errors.New("-pidfile is required: the file `collector run -pidfile` wrote")
	}
	if *cfgPath != "" {
		if _, err := config.Load(*cfgPath); err != nil {
			return fmt.Errorf("not reloaded: %w", err)
		}
	}
	data, err := os.ReadFile(*pidFile)
	if err != nil {
		return fmt.Errorf("-pidfile: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("-pidfile %s: %q is not a process id", *pidFile, strings.TrimSpace(string(data)))
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signal collector (pid %d): %w", pid, err)
	}
	fmt.Fprintf(os.Stderr, "collector reload: SIGHUP sent to pid %d; its log says what was applied\n", pid)
	return nil
}

// writePIDFile writes this process's id to path (for `collector reload`)
// and returns a function that removes it.
func writePIDFile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("-pidfile: %w", err)
	}
	return func() { os.Remove(path) }, nil
}
