// Package testpeer runs real BGP daemons (BIRD 2 and FRR's bgpd today;
// gobgpd and ExaBGP follow the same shape) as test peers on loopback, each with a
// generated config, control socket, pid file and log in its own
// directory, and stops them when the test ends.
//
// When a daemon is not installed the test is skipped with a message that
// says how to install it, or fails under VANTAGE_NO_SKIP=1 (see testenv).
package testpeer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/freeport"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// Need skips (or, under VANTAGE_NO_SKIP=1, fails) the test when a
// program is missing, and returns its path.
func Need(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	testenv.Skipf(t, "%s not installed (apt-get install %s, or make deps-test)", program, debianPackage)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and
// that no other call of this test binary returned.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// BIRD is a running BIRD 2 daemon.
type BIRD struct {
	t    testing.TB
	Dir  string
	ctl  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartBIRD writes conf (where every "DIR" is replaced by the daemon's
// directory) and starts bird in the foreground. It is stopped, and its log
// shown on failure, when the test ends.
func StartBIRD(t testing.TB, conf string) *BIRD {
	t.Helper()
	bird := Need(t, "bird", "bird2")
	dir := t.TempDir()
	b := &BIRD{t: t, Dir: dir, ctl: filepath.Join(dir, "bird.ctl"), done: make(chan struct{})}
	cfgPath := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(conf, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bird, "-p", "-c", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("bird config does not parse: %v\n%s\n%s", err, out, conf)
	}
	out, err := os.Create(filepath.Join(dir, "bird.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bird, "-f", "-c", cfgPath, "-s", b.ctl, "-P", filepath.Join(dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start bird: %v", err)
	}
	go func() { b.cmd.Wait(); out.Close(); close(b.done) }()
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			for _, f := range []string{"bird.log", "bird.stdout"} {
				if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					t.Logf("%s:\n%s", f, data)
				}
			}
		}
	})
	// Wait for the control socket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.Ctl("show", "status"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bird control socket did not come up within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b
}

// Ctl runs birdc against this daemon.
func (b *BIRD) Ctl(args ...string) (string, error) {
	out, err := exec.Command("birdc", append([]string{"-s", b.ctl}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("birdc %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Stop ends the daemon: TERM, then KILL after 5 s. Idempotent.
func (b *BIRD) Stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// FRR is a running FRR bgpd (standalone: no zebra, no watchfrr).
type FRR struct {
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartFRR writes conf (every "DIR" replaced by the daemon's directory)
// and starts FRR's bgpd as root without zebra (-Z), kernel routes (-n),
// a BGP listener (-p 0) or a TCP vty (-P 0). It is stopped, and its log
// shown on failure, when the test ends.
func StartFRR(t testing.TB, conf string) *FRR {
	t.Helper()
	const bgpd = "/usr/lib/frr/bgpd"
	if _, err := os.Stat(bgpd); err != nil {
		Need(t, bgpd, "frr")
	}
	dir := t.TempDir()
	f := &FRR{Dir: dir, done: make(chan struct{})}
	cfgPath := filepath.Join(dir, "bgpd.conf")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(conf, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "bgpd.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	f.cmd = exec.Command(bgpd, "-f", cfgPath, "-i", filepath.Join(dir, "bgpd.pid"),
		"-S", "-Z", "-n", "-p", "0", "-P", "0", "--vty_socket", dir)
	f.cmd.Stdout, f.cmd.Stderr = out, out
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start bgpd: %v", err)
	}
	go func() { f.cmd.Wait(); out.Close(); close(f.done) }()
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			for _, name := range []string{"bgpd.log", "bgpd.stdout"} {
				if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					t.Logf("%s:\n%s", name, data)
				}
			}
		}
	})
	return f
}

// Vtysh runs vtysh commands against this bgpd.
func (f *FRR) Vtysh(cmds ...string) (string, error) {
	args := []string{"--vty_socket", f.Dir, "-d", "bgpd"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.Command("vtysh", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("vtysh %s: %v: %s", strings.Join(cmds, "; "), err, out)
	}
	return string(out), nil
}

// Stop ends bgpd: TERM, then KILL after 5 s. Idempotent.
func (f *FRR) Stop() {
	select {
	case <-f.done:
		return
	default:
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		f.cmd.Process.Kill()
		<-f.done
	}
}

// Process is a daemon started from a shell command line by StartCommand.
type Process struct {
	// Name labels the process in messages; Dir is its working directory.
	Name, Dir string
	// Command is the command line as given.
	Command string
	out     string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// StartCommand runs a daemon from a command line as a user would type it
// (a README's, say) in dir: sh -c "exec COMMAND", so that the shell
// expands $PWD and quotes and the daemon keeps the PID. Its stdout and
// stderr go to dir/NAME.out. It is stopped (TERM, then KILL after 5 s),
// and its output shown on failure, when the test ends.
func StartCommand(t testing.TB, dir, name, command string) *Process {
	t.Helper()
	p := &Process{Name: name, Dir: dir, Command: command, out: filepath.Join(dir, name+".out"), done: make(chan struct{})}
	out, err := os.Create(p.out)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command("/bin/sh", "-c", "exec "+command)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s (%s): %v", name, command, err)
	}
	go func() { p.err = p.cmd.Wait(); out.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s (%s in %s) output:\n%s", name, command, dir, p.Output())
		}
	})
	return p
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid is the process's PID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process (SIGKILL to crash it, SIGSTOP to
// freeze it).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Err is how the process ended (valid once Done is closed).
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Output returns what the process wrote to stdout and stderr so far.
func (p *Process) Output() string {
	data, err := os.ReadFile(p.out)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// Stop ends the process: TERM, then KILL after 5 s. Idempotent.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}
