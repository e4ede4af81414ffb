package devenv

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestControlPlaneBinaries(t *testing.T) {
	assets, links := t.TempDir(), filepath.Join(t.TempDir(), "bin")
	// controlPlaneBinaries sets these; t.Setenv puts them back.
	t.Setenv(guardParentEnv, "")
	t.Setenv(guardAssetsEnv, "")
	saved := guarding
	t.Cleanup(func() { guarding = saved })

	t.Run("a program that does not guard", func(t *testing.T) {
		guarding = false
		etcd, api, err := controlPlaneBinaries(assets, links)
		if err != nil {
			t.Fatal(err)
		}
		if etcd != filepath.Join(assets, "etcd") || api != filepath.Join(assets, "kube-apiserver") {
			t.Errorf("binaries %s, %s; want the ones in %s", etcd, api, assets)
		}
		if _, err := os.Stat(links); !os.IsNotExist(err) {
			t.Errorf("links made (%v)", err)
		}
	})

	t.Run("gitgate", func(t *testing.T) {
		guarding = true
		etcd, api, err := controlPlaneBinaries(assets, links)
		if err != nil {
			t.Fatal(err)
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{etcd, api} {
			if filepath.Dir(p) != links {
				t.Errorf("%s is not in %s", p, links)
			}
			if target, err := os.Readlink(p); err != nil || target != self {
				t.Errorf("%s links to %q (%v), want this executable %s", p, target, err, self)
			}
		}
		if filepath.Base(etcd) != "etcd" || filepath.Base(api) != "kube-apiserver" {
			t.Errorf("links %s, %s: ExecGuarded knows them by these names", etcd, api)
		}
		if got := os.Getenv(guardParentEnv); got != strconv.Itoa(os.Getpid()) {
			t.Errorf("%s = %q, want this pid", guardParentEnv, got)
		}
		if got := os.Getenv(guardAssetsEnv); got != assets {
			t.Errorf("%s = %q, want %s", guardAssetsEnv, got, assets)
		}
	})
}
