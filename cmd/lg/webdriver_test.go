package main

// A minimal W3C WebDriver client for chromedriver driving Debian's
// headless chromium: enough to load a page, type into it, run a script and
// take a screenshot.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// browser is a chromium session behind a chromedriver process.
type browser struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT/session/ID
	shots   string // where screenshots go
	drvBase string
}

// elementKey is the W3C name of an element reference.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// startBrowser starts chromedriver and a headless chromium session with
// a 1280 px wide window; both end with the test.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	driver, err2 := exec.LookPath("chromedriver")
	if err != nil || err2 != nil {
		testenv.Skip(t, "chromium or chromedriver missing: apt-get install chromium chromium-driver (make deps-test)")
	}
	port := storagetest.FreePort()
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port))
	logf, err := os.Create(filepath.Join(t.TempDir(), "chromedriver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	b := &browser{t: t, drvBase: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := b.call("GET", b.drvBase+"/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver not ready within 60s (log %s)", logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
				"--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + t.TempDir()},
		},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("POST", b.drvBase+"/session", caps, &sess); err != nil {
		t.Fatalf("new chromium session: %v", err)
	}
	b.base = b.drvBase + "/session/" + sess.SessionID
	t.Cleanup(func() { b.call("DELETE", b.base, nil, nil) })
	b.shots = os.Getenv("VANTAGE_SCREENSHOTS")
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	return b
}

// call sends a WebDriver command and decodes its "value" into out.
func (b *browser) call(method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s %s: %d: %w", method, url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, env.Value)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func (b *browser) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// open loads a URL.
func (b *browser) open(url string) {
	b.t.Helper()
	b.must(b.call("POST", b.base+"/url", map[string]string{"url": url}, nil))
}

// find returns the reference of the element a CSS selector finds.
func (b *browser) find(css string) string {
	b.t.Helper()
	var el map[string]string
	b.must(b.call("POST", b.base+"/element", map[string]string{"using": "css selector", "value": css}, &el))
	return el[elementKey]
}

// typeInto clears an input and types text into it, as a person would
// (\uE007 is Enter).
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	el := b.find(css)
	b.must(b.call("POST", b.base+"/element/"+el+"/clear", map[string]any{}, nil))
	b.must(b.call("POST", b.base+"/element/"+el+"/value", map[string]string{"text": text}, nil))
}

// script runs JavaScript in the page and decodes its result into out.
func (b *browser) script(js string, out any, args ...any) {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	b.must(b.call("POST", b.base+"/execute/sync", map[string]any{"script": js, "args": args}, out))
}

// waitFor polls a script until it returns true.
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		b.script(js, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var url string
			b.must(b.call("GET", b.base+"/url", nil, &url))
			b.t.Fatalf("%s: not within 60s (page %s)", what, url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot writes the page as NAME.png and logs where.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	var data string
	b.must(b.call("GET", b.base+"/screenshot", nil, &data))
	png, err := base64.StdEncoding.DecodeString(data)
	b.must(err)
	path := filepath.Join(b.shots, name+".png")
	b.must(os.WriteFile(path, png, 0o644))
	b.t.Logf("screenshot: %s", path)
}
