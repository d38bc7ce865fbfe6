package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/bus"
)

// This file owns where `collector events` writes: stdout, or the stdin of
// a script that is restarted when it exits. Both are a lineWriter that
// knows which lines its reader has taken: for a pipe, the kernel says how
// many bytes written to it are still unread (FIONREAD), so a line counts
// as taken once its reader has read its last byte; anything else (a file,
// /dev/null, a terminal) takes a line when it is written. Only taken lines
// are acknowledged, and the lines a script did not take when it exited go
// to the next run of it first.

// lineReader is where the events go.
type lineReader interface {
	// add queues an event: its line, or (line false, filtered out) only
	// its place in the order of acknowledgements.
	add(m bus.Msg, line bool)
	buffered() bool // lines wait to be written
	full() bool     // enough is buffered to write it now
	// flush writes what is buffered.
	flush() error
	// release acknowledges what the reader has taken.
	release() error
	// taken is the number of lines the reader has taken (all runs).
	taken() int64
	// drain waits until the reader has taken everything written, for at
	// most max (0: no limit) or until ctx ends.
	drain(ctx context.Context, max time.Duration) error
	// close acknowledges what was taken and ends the reader.
	close() error
}

// writeBuffer is the most bytes queued before they are written.
const writeBuffer = 64 << 10

// pendingLine is an event written (or queued) and not known to be taken:
// end is the offset, in the bytes given to the reader, after its line.
type pendingLine struct {
	m    bus.Msg
	end  int64
	line bool
}

// lineWriter writes lines to a file and tracks what its reader took.
type lineWriter struct {
	f       *os.File
	fol     *bus.Follower
	pipe    bool // f is a pipe: FIONREAD tells what is unread
	buf     []byte
	written int64 // bytes written to f
	pending []pendingLine
	took    int    // lines taken (from this writer)
	total   *int64 // lines taken (all writers of the reader)
}

func newLineWriter(f *os.File, fol *bus.Follower, total *int64) *lineWriter {
	w := &lineWriter{f: f, fol: fol, total: total, buf: make([]byte, 0, writeBuffer+4096)}
	if st, err := f.Stat(); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
		w.pipe = true
	}
	return w
}

func (w *lineWriter) add(m bus.Msg, line bool) {
	if line {
		w.buf = append(w.buf, m.Data...)
		w.buf = append(w.buf, '\n')
	}
	w.pending = append(w.pending, pendingLine{m: m, end: w.written + int64(len(w.buf)), line: line})
}

func (w *lineWriter) buffered() bool { return len(w.buf) > 0 }
func (w *lineWriter) full() bool     { return len(w.buf) >= writeBuffer }

// write writes the buffer; on an error, what was not written is dropped
// from the buffer (its events are still pending).
func (w *lineWriter) write() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.written += int64(n)
	w.buf = w.buf[:0]
	return err
}

// unread returns the bytes written to a pipe that its reader has not read.
func (w *lineWriter) unread() int64 {
	if !w.pipe {
		return 0
	}
	return pipeUnread(w.f)
}

// release acknowledges the events whose lines the reader has taken.
func (w *lineWriter) release() error {
	taken := w.written - w.unread()
	i, lines := 0, 0
	for i < len(w.pending) && w.pending[i].end <= taken {
		if w.pending[i].line {
			lines++
		}
		i++
	}
	if i == 0 {
		return nil
	}
	w.took += lines
	*w.total += int64(lines)
	w.fol.Ack(w.pending[i-1].m)
	w.pending = append(w.pending[:0], w.pending[i:]...)
	return nil
}

func (w *lineWriter) taken() int64 { return *w.total }

// allTaken reports whether every line written has been taken.
func (w *lineWriter) allTaken() bool {
	return len(w.buf) == 0 && (len(w.pending) == 0 || w.pending[len(w.pending)-1].end <= w.written-w.unread())
}

// stdoutReader writes the lines to stdout.
type stdoutReader struct{ *lineWriter }

func newStdoutReader(fol *bus.Follower) stdoutReader {
	// A closed pipe on stdout is an error of the write, not SIGPIPE's
	// death, so that what the reader took is acknowledged first.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return stdoutReader{newLineWriter(os.Stdout, fol, new(int64))}
}

// errStdoutClosed ends a run whose stdout reader went away (`collector
// events | head`): what it took is acknowledged, and that is no error.
var errStdoutClosed = errors.New("stdout closed by its reader")

func (s stdoutReader) flush() error {
	if err := s.write(); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return errStdoutClosed
		}
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}

func (s stdoutReader) drain(ctx context.Context, max time.Duration) error {
	return drainLoop(ctx, max, s.release, s.allTaken, nil)
}

func (s stdoutReader) close() error { return s.release() }

// drainLoop polls release until done says everything is taken, ctx ends
// or max passes (0: no limit); check may end it early (a script exited).
func drainLoop(ctx context.Context, max time.Duration, release func() error, done func() bool, check func() bool) error {
	start := time.Now()
	for {
		err := release()
		if err != nil || done() || ctx.Err() != nil || (max > 0 && time.Since(start) > max) {
			return err
		}
		if check != nil && check() {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// scriptReader runs a command with /bin/sh and writes the lines to its
// stdin; when it exits, it is started again (at once when it took lines,
// else after a backoff from 250 ms to 30 s), and is given first what the
// run before did not take. The script runs in its own process group: what
// is left of it when its shell exits is killed, so that nothing else reads
// its stdin.
type scriptReader struct {
	*lineWriter
	ctx     context.Context
	cmdline string
	log     *slog.Logger
	cmd     *exec.Cmd
	exited  chan struct{}
	runs    int
	total   int64 // lines taken by every run
	backoff time.Duration
	// stopping: a script that exits now is not started again.
	stopping bool
	stdin    atomic.Pointer[os.File] // the current run's stdin, for ctx's end
}

func startScript(ctx context.Context, cmdline string, fol *bus.Follower, log *slog.Logger) (*scriptReader, error) {
	s := &scriptReader{ctx: ctx, cmdline: cmdline, log: log}
	if err := s.start(fol); err != nil {
		return nil, err
	}
	// A write blocked on a script that does not read ends when ctx does.
	context.AfterFunc(ctx, func() {
		if f := s.stdin.Load(); f != nil {
			f.SetWriteDeadline(time.Now())
		}
	})
	return s, nil
}

func (s *scriptReader) start(fol *bus.Follower) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("-exec: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", s.cmdline)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return fmt.Errorf("-exec %q: %w", s.cmdline, err)
	}
	s.runs++
	s.cmd, s.exited = cmd, make(chan struct{})
	exited := s.exited
	go func() { cmd.Wait(); close(exited) }() // owned: every path waits for exited
	s.lineWriter = newLineWriter(w, fol, &s.total)
	s.stdin.Store(w)
	if s.ctx.Err() != nil {
		w.SetWriteDeadline(time.Now())
	}
	s.lineWriter.pipe = true
	return nil
}

func (s *scriptReader) release() error {
	err := s.lineWriter.release()
	if err == nil && s.hasExited() && !s.stopping && s.ctx.Err() == nil {
		return s.restart()
	}
	return err
}

func (s *scriptReader) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// flush writes the buffer, restarting the script as often as it exits.
func (s *scriptReader) flush() error {
	for {
		err := s.write()
		if err == nil {
			return nil
		}
		if s.stopping || s.ctx.Err() != nil {
			return nil // close takes stock
		}
		if err := s.restart(); err != nil {
			return err
		}
	}
}

// restart waits for the script to exit (it closed its stdin, or is
// exiting), acknowledges what it took, and starts it again with what it
// did not take.
func (s *scriptReader) restart() error {
	s.end(10 * time.Second)
	pending := s.pending
	fol := s.fol
	status := s.cmd.ProcessState.String()
	s.log.Info("the script exited; starting it again", "exec", s.cmdline, "status", status, "lines_taken", s.took, "lines_left", len(pending))
	if s.took > 0 {
		s.backoff = 0
	} else {
		s.backoff = min(max(2*s.backoff, 250*time.Millisecond), 30*time.Second)
		s.log.Warn("the script took no line; waiting before starting it again", "exec", s.cmdline, "retry_in", s.backoff)
		select {
		case <-s.ctx.Done():
			return nil
		case <-time.After(s.backoff):
		}
	}
	if err := s.start(fol); err != nil {
		return err
	}
	for _, p := range pending {
		s.add(p.m, p.line)
	}
	return nil
}

// end waits up to grace for the script to exit, then sends SIGTERM, and
// SIGKILL 5 s later; kills what is left of its process group;
// acknowledges what it took, and closes its stdin.
func (s *scriptReader) end(grace time.Duration) {
	pid := s.cmd.Process.Pid
	select {
	case <-s.exited:
	case <-time.After(grace):
		syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL) // what the shell left behind
	s.lineWriter.release()
	s.f.Close()
}

func (s *scriptReader) drain(ctx context.Context, max time.Duration) error {
	gone := func() bool { return s.hasExited() && (s.stopping || s.ctx.Err() != nil) }
	return drainLoop(ctx, max, s.release, s.allTaken, gone)
}

// close stops the script. When it has taken every line written to it, its
// stdin is closed and it has 5 s to finish on its own (then SIGTERM, and
// SIGKILL 5 s later); otherwise SIGTERM at once (it had drainWait to take
// them), and what it took is acknowledged.
func (s *scriptReader) close() error {
	s.stopping = true
	if !s.hasExited() {
		if s.allTaken() {
			s.f.Close() // end of input: nothing is left to count
		} else {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	s.end(5 * time.Second)
	if len(s.pending) > 0 {
		s.log.Info("lines the script did not take are delivered to the next reader", "lines", len(s.pending))
	}
	return nil
}
