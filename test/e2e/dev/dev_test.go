// Package dev is the end-to-end test of `gitgate dev` (and so of `make
// demo`): it builds the gitgate binary, runs `gitgate dev --keep` against
// the control plane binaries test/envtest/build.sh builds, and then does
// what the issue promises a user can do with the three lines it prints:
// kubectl lists the demo objects and is denied a scale of web, a commit
// signed with SIGNING_KEY in REPO reaches the cluster within seconds, and
// an unsigned one does not. Interrupted, gitgate dev must exit 0 and leave
// nothing behind.
//
// Without the control plane binaries the test is skipped (run `make
// envtest`); under CI=true it fails instead.
package dev

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// Bounds of the run, generous for small shared CI machines; the demo
// itself polls every two seconds.
const (
	// startTimeout covers the control plane's start and the walkthrough.
	startTimeout = 5 * time.Minute
	// reachTimeout is how long a signed commit may take to reach the
	// cluster ("within seconds": a poll interval plus the apply).
	reachTimeout = 30 * time.Second
	// stopTimeout bounds the shutdown after Ctrl-C.
	stopTimeout = time.Minute
)

func TestDevKeep(t *testing.T) {
	assets := requireAssets(t)
	for _, tool := range []string{"git", "ssh-keygen", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, fmt.Sprintf("%s not installed: %v", tool, err))
		}
	}
	start := time.Now()
	bin := testenv.GitgateBinary(t)
	t.Logf("gitgate built in %s", time.Since(start).Round(time.Second))
	tmp := t.TempDir()
	start = time.Now()
	dev := startDev(t, bin, assets, tmp)

	lines := dev.waitKeepLines(t)
	t.Logf("gitgate dev walked through in %s", time.Since(start).Round(time.Second))
	out := dev.stdout()
	for i := 1; i <= 5; i++ {
		if !strings.Contains(out, fmt.Sprintf("[%d/5] ", i)) {
			t.Errorf("step %d not printed", i)
		}
	}
	if n := strings.Count(out, "      ok: "); n != 5 || !strings.Contains(out, "Every step behaved.") {
		t.Fatalf("%d steps ok, want 5:\n%s", n, out)
	}
	if !strings.Contains(out, `validate.gitgate.dev" denied the request`) {
		t.Errorf("the denial message is not shown:\n%s", out)
	}

	u := &user{t: t, kubectl: filepath.Join(assets, "kubectl"), kubeconfig: lines["KUBECONFIG"], repo: lines["REPO"], key: lines["SIGNING_KEY"], home: t.TempDir()}
	if !strings.HasPrefix(u.kubeconfig, tmp) {
		t.Errorf("kubeconfig %s is not in the temporary folder %s", u.kubeconfig, tmp)
	}

	t.Run("kubectl lists the demo objects", func(t *testing.T) {
		got := u.mustKubectl("get", "namespace/demo", "deployment/web", "service/web", "configmap/web-config", "-n", "demo", "-o", "name")
		for _, want := range []string{"namespace/demo", "deployment.apps/web", "service/web", "configmap/web-config"} {
			if !strings.Contains(got, want) {
				t.Errorf("kubectl get lacks %s:\n%s", want, got)
			}
		}
		if got := u.mustKubectl("get", "gitsources", "-o", "name"); !strings.Contains(got, "gitsource.gitgate.dev/demo") {
			t.Errorf("kubectl get gitsources:\n%s", got)
		}
	})

	t.Run("kubectl scale is denied", func(t *testing.T) {
		out, err := u.kubectlRun("scale", "deployment", "web", "--replicas=5", "-n", "demo")
		if err == nil || !strings.Contains(out, `validate.gitgate.dev" denied the request`) {
			t.Fatalf("scale not denied by gitgate (err %v):\n%s", err, out)
		}
		if got := u.field("deployment/web", "{.spec.replicas}"); got == "5" {
			t.Errorf("web was scaled to 5")
		}
	})

	// Both commits change the ConfigMap, which the walkthrough left at
	// its last signed value.
	signed := fmt.Sprintf("signed by the e2e test at %d", time.Now().UnixNano())
	t.Run("a commit signed with SIGNING_KEY reaches the cluster", func(t *testing.T) {
		u.setGreeting(signed)
		u.git("-c", "gpg.format=ssh", "-c", "user.signingkey="+u.key, "commit", "-q", "-S", "-am", "e2e: signed greeting")
		start := time.Now()
		if err := poll(t.Context(), reachTimeout, func() bool { return u.field("configmap/web-config", "{.data.GREETING}") == signed }); err != nil {
			t.Fatalf("the signed commit did not reach the cluster: %v; GitSource: %s", err, u.sourceState())
		}
		t.Logf("signed commit applied %s after the commit", time.Since(start).Round(time.Millisecond))
	})

	t.Run("an unsigned commit does not", func(t *testing.T) {
		u.setGreeting("unsigned greeting")
		u.git("commit", "-q", "--no-gpg-sign", "-am", "e2e: unsigned greeting")
		err := poll(t.Context(), reachTimeout, func() bool {
			return u.field("gitsource/demo", `{.status.conditions[?(@.type=="Verified")].status}`) == "False"
		})
		if err != nil {
			t.Fatalf("the unsigned commit was not refused: %v; GitSource: %s", err, u.sourceState())
		}
		// One more poll interval and the cluster still holds the signed state.
		time.Sleep(3 * time.Second)
		if got := u.field("configmap/web-config", "{.data.GREETING}"); got != signed {
			t.Fatalf("GREETING = %q after the unsigned commit, want %q", got, signed)
		}
	})

	start = time.Now()
	code, stopOut := dev.interrupt(t)
	t.Logf("gitgate dev stopped %s after SIGINT", time.Since(start).Round(100*time.Millisecond))
	if code != 0 {
		t.Fatalf("gitgate dev exited %d after Ctrl-C:\n%s", code, stopOut)
	}
	if _, err := os.Stat(filepath.Dir(u.kubeconfig)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dev folder %s is still there (err %v)", filepath.Dir(u.kubeconfig), err)
	}
	if out, err := u.kubectlRun("get", "namespaces", "--request-timeout=3s"); err == nil {
		t.Errorf("the API server still answers after gitgate dev exited:\n%s", out)
	}
}

// requireAssets returns the folder of the control plane binaries, or
// skips (fails under CI=true) when they are missing.
func requireAssets(t *testing.T) string {
	t.Helper()
	assets, err := testenv.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	if missing := testenv.MissingBinaries(assets); len(missing) > 0 {
		skipOrFail(t, fmt.Sprintf("control plane binaries %s missing in %s; run `make envtest` to build them", strings.Join(missing, ", "), assets))
	}
	return assets
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if testenv.InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// devProcess is a running `gitgate dev --keep`.
type devProcess struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // stdout so far
	errOut bytes.Buffer // stderr
	lines  chan string
	exited chan struct{}
	code   int
}

func startDev(t *testing.T, bin, assets, tmp string) *devProcess {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--keep", "--assets", assets) //nolint:noctx // stopped with SIGINT, as a user does
	// TMPDIR makes the dev folder land where the test can check that it
	// is removed; KUBECONFIG must not leak in from the developer.
	env := []string{"TMPDIR=" + tmp}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	p := &devProcess{cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.errOut}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		// A failed test still stops the environment the way a user does.
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func (p *devProcess) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *devProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "stdout:\n" + p.out.String() + "\nstderr:\n" + p.errOut.String()
}

// waitKeepLines waits for the KUBECONFIG=, REPO= and SIGNING_KEY= lines.
func (p *devProcess) waitKeepLines(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.After(startTimeout)
	for len(got) < 3 {
		select {
		case line := <-p.lines:
			for _, k := range []string{"KUBECONFIG", "REPO", "SIGNING_KEY"} {
				if v, ok := strings.CutPrefix(line, k+"="); ok && v != "" {
					got[k] = v
				}
			}
		case <-p.exited:
			t.Fatalf("gitgate dev --keep exited (%d) before printing KUBECONFIG, REPO and SIGNING_KEY:\n%s", p.code, p.output())
		case <-deadline:
			t.Fatalf("no KUBECONFIG, REPO and SIGNING_KEY lines within %s:\n%s", startTimeout, p.output())
		}
	}
	return got
}

// interrupt sends Ctrl-C's signal and returns the exit code.
func (p *devProcess) interrupt(t *testing.T) (int, string) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		return p.code, p.output()
	case <-time.After(stopTimeout):
		t.Fatalf("gitgate dev did not stop within %s of SIGINT:\n%s", stopTimeout, p.output())
	}
	return -1, ""
}

// user acts with the three printed lines only, as the user does.
type user struct {
	t                              *testing.T
	kubectl, kubeconfig, repo, key string
	home                           string
}

func (u *user) kubectlRun(args ...string) (string, error) {
	cmd := exec.CommandContext(u.t.Context(), u.kubectl, args...)
	cmd.Env = append(u.env(), "KUBECONFIG="+u.kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (u *user) mustKubectl(args ...string) string {
	u.t.Helper()
	out, err := u.kubectlRun(args...)
	if err != nil {
		u.t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return out
}

// field reads a jsonpath of an object in namespace demo; "" on error.
func (u *user) field(obj, jsonpath string) string {
	out, err := u.kubectlRun("get", obj, "-n", "demo", "-o", "jsonpath="+jsonpath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

func (u *user) sourceState() string {
	out, _ := u.kubectlRun("get", "gitsource", "demo", "-o", "jsonpath={.status}")
	return out
}

// env is the user's environment without KUBECONFIG, with a HOME and an
// empty global git configuration of the test's own.
func (u *user) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+u.home, "GIT_CONFIG_GLOBAL="+filepath.Join(u.home, "gitconfig"), "GIT_CONFIG_NOSYSTEM=1")
}

func (u *user) git(args ...string) {
	u.t.Helper()
	cmd := exec.CommandContext(u.t.Context(), "git", args...)
	cmd.Dir = u.repo
	cmd.Env = u.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		u.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// setGreeting edits GREETING in the repository's ConfigMap manifest.
func (u *user) setGreeting(v string) {
	u.t.Helper()
	path := filepath.Join(u.repo, "demo", "configmap.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		u.t.Fatal(err)
	}
	var lines []string
	found := false
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "GREETING:") {
			line = fmt.Sprintf("  GREETING: %q", v)
			found = true
		}
		lines = append(lines, line)
	}
	if !found {
		u.t.Fatalf("no GREETING in %s:\n%s", path, data)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		u.t.Fatal(err)
	}
}

// poll calls ok every 200 ms until it is true or timeout passes.
func poll(ctx context.Context, timeout time.Duration, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %s", timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
