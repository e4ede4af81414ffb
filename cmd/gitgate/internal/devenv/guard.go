package devenv

import "runtime"

// etcd and kube-apiserver die with gitgate dev.
//
// envtest starts them in process groups of their own (so that a Ctrl-C at
// the terminal reaches only gitgate, which stops them in order) and has no
// option for how they are started. A gitgate dev killed outright (SIGKILL,
// the OOM killer) would leave them running, holding their ports and the
// dev folder. On Linux envtest therefore starts them through links, named
// etcd and kube-apiserver, to gitgate's own executable: gitgate run under
// such a name (ExecGuarded, called first in main) asks the kernel to kill
// it when gitgate dev dies (PR_SET_PDEATHSIG with SIGKILL, which exec
// keeps), then replaces itself with the real binary. Elsewhere they are
// started directly.

// Names of the control plane binaries in the assets folder.
const (
	etcdBinary      = "etcd"
	apiServerBinary = "kube-apiserver"
)

// onOwnThread runs start on a goroutine locked to an OS thread, which it
// keeps until the returned end is called. The kernel sends the
// parent-death signal when the thread that started a process ends, not the
// process: on a thread Go could hand to other code (and end) the control
// plane would be killed early. The goroutine never unlocks its thread, so
// the thread ends with it after end, and takes with it any process it
// started that stop left running.
func onOwnThread(start func() error) (end func(), err error) {
	errc := make(chan error, 1)
	endc := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		errc <- start()
		<-endc
	}()
	return func() { close(endc) }, <-errc
}
