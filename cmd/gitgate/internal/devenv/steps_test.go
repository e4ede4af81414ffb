package devenv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunSteps(t *testing.T) {
	var ran []string
	ok := func(name string) step {
		return step{name, func(_ context.Context, say sayFunc) (string, error) {
			ran = append(ran, name)
			say("$ doing %s\nsecond line", name)
			return name + " done", nil
		}}
	}
	boom := step{"breaks", func(context.Context, sayFunc) (string, error) {
		ran = append(ran, "breaks")
		return "", errors.New("it broke")
	}}
	for _, tc := range []struct {
		name    string
		steps   []step
		wantRan []string
		wantOut []string
		wantErr string
	}{
		{
			name: "all behave", steps: []step{ok("one"), ok("two")}, wantRan: []string{"one", "two"},
			wantOut: []string{"\n[1/2] one\n      $ doing one\n      second line\n      ok: one done\n", "[2/2] two\n"},
		},
		{
			name: "stops at the first failure", steps: []step{ok("one"), boom, ok("three")}, wantRan: []string{"one", "breaks"},
			wantOut: []string{"[2/3] breaks\n      FAILED after ", ": it broke\n"}, wantErr: "[2/3] breaks: it broke",
		},
		{name: "none", wantOut: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran = nil
			var out strings.Builder
			err := runSteps(t.Context(), &out, tc.steps)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !errors.Is(err, errStep) || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want errStep with %q", err, tc.wantErr)
			}
			if strings.Join(ran, ",") != strings.Join(tc.wantRan, ",") {
				t.Errorf("ran %v, want %v", ran, tc.wantRan)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "three") {
				t.Errorf("a step after the failure ran:\n%s", out.String())
			}
		})
	}
}

func TestWaitFor(t *testing.T) {
	t.Run("done after a few polls", func(t *testing.T) {
		n := 0
		err := waitFor(t.Context(), time.Second, time.Millisecond, "thing", func(context.Context) (bool, string, error) {
			n++
			return n == 3, "", nil
		})
		if err != nil || n != 3 {
			t.Fatalf("err %v after %d polls", err, n)
		}
	})
	t.Run("timeout says what it saw last", func(t *testing.T) {
		err := waitFor(t.Context(), 30*time.Millisecond, time.Millisecond, "thing ready", func(context.Context) (bool, string, error) {
			return false, "thing at 2", nil
		})
		if err == nil || !strings.Contains(err.Error(), "thing ready: not within 30ms (last seen: thing at 2)") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("check errors are retried and reported", func(t *testing.T) {
		n := 0
		err := waitFor(t.Context(), 30*time.Millisecond, time.Millisecond, "thing", func(context.Context) (bool, string, error) {
			n++
			return false, "", errors.New("api hiccup")
		})
		if err == nil || !strings.Contains(err.Error(), "last seen: api hiccup") || n < 2 {
			t.Fatalf("err = %v after %d polls", err, n)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := waitFor(ctx, time.Minute, time.Millisecond, "thing", func(context.Context) (bool, string, error) {
			return false, "", nil
		})
		if err == nil || err.Error() != "thing: context canceled" || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("given up with a cause", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		stopped := errors.New("gitgate serve: port gone")
		time.AfterFunc(10*time.Millisecond, func() { cancel(stopped) })
		err := waitFor(ctx, time.Minute, time.Millisecond, "thing", func(context.Context) (bool, string, error) {
			return false, "", nil
		})
		if !errors.Is(err, stopped) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestShort(t *testing.T) {
	for in, want := range map[string]string{
		"0123456789abcdef0123456789abcdef01234567": "0123456789ab",
		"abc": "abc",
		"":    "",
	} {
		if got := short(in); got != want {
			t.Errorf("short(%q) = %q, want %q", in, got, want)
		}
	}
}
