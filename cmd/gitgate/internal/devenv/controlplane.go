package devenv

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kubeContext names the cluster, user and context of the kubeconfig file.
const kubeContext = "gitgate-dev"

// controlPlane is etcd and kube-apiserver started from the assets folder,
// with the GitSource CRD installed.
type controlPlane struct {
	env    *envtest.Environment
	config *rest.Config
	// kubeconfig is the admin kubeconfig file.
	kubeconfig string
	logs       []io.Closer
	// endThread ends the thread that started the processes (onOwnThread).
	endThread func()
}

// controlPlaneOptions say where the control plane keeps its files.
type controlPlaneOptions struct {
	assets     string // etcd, kube-apiserver
	linkDir    string // links that start them guarded (guard.go)
	dataDir    string // etcd's data
	certDir    string // kube-apiserver's certificates
	logDir     string // etcd.log, kube-apiserver.log
	kubeconfig string // written for the admin user
	crds       []*apiextensionsv1.CustomResourceDefinition
}

// startControlPlane starts etcd and kube-apiserver through
// controller-runtime's envtest (which picks free ports, makes the API
// server's certificates and an admin user in system:masters) and writes an
// admin kubeconfig. The processes run in their own process group, so a
// Ctrl-C at the terminal reaches only gitgate, which stops them in order;
// on Linux they die with gitgate (guard.go).
func startControlPlane(opts controlPlaneOptions) (*controlPlane, error) {
	etcdPath, apiPath, err := controlPlaneBinaries(opts.assets, opts.linkDir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{opts.dataDir, opts.certDir, opts.logDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("control plane folder: %w", err)
		}
	}
	cp := &controlPlane{kubeconfig: opts.kubeconfig}
	etcdLog, err := cp.openLog(filepath.Join(opts.logDir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	apiLog, err := cp.openLog(filepath.Join(opts.logDir, "kube-apiserver.log"))
	if err != nil {
		cp.closeLogs()
		return nil, err
	}
	te := &envtest.Environment{
		// A developer's USE_EXISTING_CLUSTER=true must never point the
		// demo at a real cluster.
		UseExistingCluster: ptr.To(false),
		CRDs:               opts.crds,
		// The first start on a small, busy machine is slower than envtest's
		// 20 s default allows.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// KUBEBUILDER_ASSETS would override BinaryAssetsDirectory inside
	// envtest; pinned paths keep the folder the user chose.
	api := te.ControlPlane.GetAPIServer()
	api.Path = apiPath
	api.CertDir = opts.certDir
	api.Out, api.Err = apiLog, apiLog
	te.ControlPlane.Etcd = &envtest.Etcd{Path: etcdPath, DataDir: opts.dataDir, Out: etcdLog, Err: etcdLog}
	var cfg *rest.Config
	cp.endThread, err = onOwnThread(func() (err error) {
		cfg, err = te.Start()
		return err
	})
	if err != nil {
		// Start leaves whatever it started running when a later step fails.
		_ = te.Stop()
		cp.endThread()
		cp.closeLogs()
		return nil, fmt.Errorf("start etcd and kube-apiserver (logs in %s): %w", opts.logDir, err)
	}
	cp.env, cp.config = te, cfg
	if err := writeKubeconfig(opts.kubeconfig, cfg); err != nil {
		_ = cp.stop()
		return nil, err
	}
	return cp, nil
}

func (cp *controlPlane) openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("control plane log: %w", err)
	}
	cp.logs = append(cp.logs, f)
	return f, nil
}

func (cp *controlPlane) closeLogs() {
	for _, l := range cp.logs {
		_ = l.Close()
	}
	cp.logs = nil
}

// stop stops kube-apiserver and etcd.
func (cp *controlPlane) stop() error {
	var err error
	if cp.env != nil {
		if e := cp.env.Stop(); e != nil {
			err = fmt.Errorf("stop control plane: %w", e)
		}
		cp.env = nil
		cp.endThread()
	}
	cp.closeLogs()
	return err
}

// addUser provisions a user authenticated by a client certificate (the
// certificate's subject names the user and groups) and returns a REST
// configuration for it.
func (cp *controlPlane) addUser(name string, groups []string) (*rest.Config, error) {
	u, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{QPS: cp.config.QPS, Burst: cp.config.Burst})
	if err != nil {
		return nil, fmt.Errorf("provision user %s: %w", name, err)
	}
	return u.Config(), nil
}

// host is the API server's URL.
func (cp *controlPlane) host() string { return cp.config.Host }

// writeKubeconfig writes a kubeconfig file for cfg (client certificate
// auth, as envtest's admin user has) under the context gitgate-dev.
func writeKubeconfig(path string, cfg *rest.Config) error {
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return fmt.Errorf("api server URL %q: %w", cfg.Host, err)
	}
	if u.Scheme == "" {
		u.Scheme = "https"
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[kubeContext] = &clientcmdapi.Cluster{Server: u.String(), CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[kubeContext] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts[kubeContext] = &clientcmdapi.Context{Cluster: kubeContext, AuthInfo: kubeContext, Namespace: "demo"}
	kc.CurrentContext = kubeContext
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
