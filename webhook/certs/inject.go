package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	admissionregistrationv1client "k8s.io/client-go/kubernetes/typed/admissionregistration/v1"
	"k8s.io/client-go/util/retry"
)

// Injector puts a CA bundle where the API server reads it.
type Injector interface {
	Inject(ctx context.Context, caBundle []byte) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(ctx context.Context, caBundle []byte) error

// Inject implements Injector.
func (f InjectorFunc) Inject(ctx context.Context, caBundle []byte) error { return f(ctx, caBundle) }

var (
	_ Injector = InjectorFunc(nil)
	_ Injector = (*WebhookInjector)(nil)
)

// WebhookInjector writes the bundle into webhooks[*].clientConfig.caBundle
// of a ValidatingWebhookConfiguration and a MutatingWebhookConfiguration.
// It reads each configuration and updates it with its resourceVersion as
// the precondition (retrying on conflict), rather than sending a JSON patch
// by webhook index, so a configuration changed in between can never get the
// bundle at the wrong place. A configuration that already holds the bundle
// is not written.
type WebhookInjector struct {
	Client admissionregistrationv1client.AdmissionregistrationV1Interface
	// Validating and Mutating name the configurations; an empty name is
	// skipped.
	Validating string
	Mutating   string
}

// Inject implements Injector. A missing configuration is an error: it is
// created by the chart or by gitgate before the bundle can go into it.
func (w *WebhookInjector) Inject(ctx context.Context, caBundle []byte) error {
	if len(caBundle) == 0 {
		return errors.New("empty CA bundle")
	}
	var errs []error
	if w.Validating != "" {
		errs = append(errs, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			return w.injectValidating(ctx, caBundle)
		}))
	}
	if w.Mutating != "" {
		errs = append(errs, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			return w.injectMutating(ctx, caBundle)
		}))
	}
	return errors.Join(errs...)
}

func (w *WebhookInjector) injectValidating(ctx context.Context, caBundle []byte) error {
	api := w.Client.ValidatingWebhookConfigurations()
	c, err := api.Get(ctx, w.Validating, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get validatingwebhookconfiguration %s: %w", w.Validating, err)
	}
	changed := false
	for i := range c.Webhooks {
		changed = setBundle(&c.Webhooks[i].ClientConfig, caBundle) || changed
	}
	if !changed {
		return nil
	}
	if _, err := api.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update validatingwebhookconfiguration %s: %w", w.Validating, err)
	}
	return nil
}

func (w *WebhookInjector) injectMutating(ctx context.Context, caBundle []byte) error {
	api := w.Client.MutatingWebhookConfigurations()
	c, err := api.Get(ctx, w.Mutating, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get mutatingwebhookconfiguration %s: %w", w.Mutating, err)
	}
	changed := false
	for i := range c.Webhooks {
		changed = setBundle(&c.Webhooks[i].ClientConfig, caBundle) || changed
	}
	if !changed {
		return nil
	}
	if _, err := api.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update mutatingwebhookconfiguration %s: %w", w.Mutating, err)
	}
	return nil
}

func setBundle(cc *admissionregistrationv1.WebhookClientConfig, caBundle []byte) bool {
	if bytes.Equal(cc.CABundle, caBundle) {
		return false
	}
	cc.CABundle = bytes.Clone(caBundle)
	return true
}
