//go:build !linux

package devenv

import "path/filepath"

// ExecGuarded is called first in main; outside Linux the control plane is
// started directly, and it does nothing.
func ExecGuarded() {}

// controlPlaneBinaries returns the binaries in assets.
func controlPlaneBinaries(assets, _ string) (etcd, apiServer string, err error) {
	return filepath.Join(assets, etcdBinary), filepath.Join(assets, apiServerBinary), nil
}
