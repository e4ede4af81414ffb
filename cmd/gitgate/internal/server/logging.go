package server

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// maxVerbosity is the highest logr verbosity --log-level takes; the
// controllers log nothing useful beyond it.
const maxVerbosity = 9

// parseLevel turns a --log-level value into a zap level: a name, or a logr
// verbosity n (V(n) logs are zap level -n).
func parseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn", "warning":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxVerbosity {
		return 0, fmt.Errorf("must be debug, info, warn, error or a verbosity from 0 to %d", maxVerbosity)
	}
	return zapcore.Level(-n), nil
}

// NewLogger returns the logr logger of cfg.LogLevel and cfg.LogFormat,
// backed by zap, writing to w: one JSON object per line by default, or
// zap's console format for people reading it.
func NewLogger(cfg Config, w io.Writer) (logr.Logger, error) {
	lvl, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return logr.Discard(), fmt.Errorf("%w: --log-level %q: %w", ErrInvalidConfig, cfg.LogLevel, err)
	}
	opts := []crzap.Opts{crzap.WriteTo(w), crzap.Level(lvl), crzap.UseDevMode(false)}
	switch cfg.LogFormat {
	case LogJSON:
		opts = append(opts, crzap.JSONEncoder())
	case LogConsole:
		opts = append(opts, crzap.ConsoleEncoder())
	default:
		return logr.Discard(), fmt.Errorf("%w: --log-format %q: must be json or console", ErrInvalidConfig, cfg.LogFormat)
	}
	return crzap.New(opts...), nil
}

// LoadRESTConfig returns the configuration for the API server: the file
// kubeconfig names, else $KUBECONFIG or ~/.kube/config, else the in-cluster
// service account.
func LoadRESTConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: kubeconfig: %w", ErrInvalidConfig, err)
	}
	return cfg, nil
}
