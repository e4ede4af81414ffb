package certs

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func configurations() []runtime.Object {
	cc := admissionregistrationv1.WebhookClientConfig{URL: new("https://127.0.0.1:9443/validate"), CABundle: []byte("old")}
	return []runtime.Object{
		&admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "gitgate"},
			Webhooks:   []admissionregistrationv1.ValidatingWebhook{{Name: "a.gitgate.dev", ClientConfig: cc}, {Name: "b.gitgate.dev", ClientConfig: cc}},
		},
		&admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "gitgate"},
			Webhooks:   []admissionregistrationv1.MutatingWebhook{{Name: "a.gitgate.dev", ClientConfig: cc}, {Name: "b.gitgate.dev"}},
		},
	}
}

func countUpdates(c *fake.Clientset) int {
	n := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "update" {
			n++
		}
	}
	return n
}

func TestWebhookInjector(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset(configurations()...)
	inj := &WebhookInjector{Client: client.AdmissionregistrationV1(), Validating: "gitgate", Mutating: "gitgate"}
	bundle := []byte("-----BEGIN CERTIFICATE-----\n...\n")
	if err := inj.Inject(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	v, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "gitgate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "gitgate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []admissionregistrationv1.WebhookClientConfig
	for _, w := range v.Webhooks {
		got = append(got, w.ClientConfig)
	}
	for _, w := range m.Webhooks {
		got = append(got, w.ClientConfig)
	}
	for i, cc := range got {
		if !bytes.Equal(cc.CABundle, bundle) {
			t.Errorf("webhook %d: caBundle %q", i, cc.CABundle)
		}
	}
	if *v.Webhooks[0].ClientConfig.URL != "https://127.0.0.1:9443/validate" {
		t.Error("injection changed the URL")
	}
	if n := countUpdates(client); n != 2 {
		t.Fatalf("%d updates, want 2", n)
	}
	// Already current: nothing is written.
	if err := inj.Inject(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	if n := countUpdates(client); n != 2 {
		t.Fatalf("%d updates after a no-op injection, want 2", n)
	}
}

func TestWebhookInjectorRetriesConflicts(t *testing.T) {
	client := fake.NewClientset(configurations()...)
	conflicts := 2
	client.PrependReactor("update", "validatingwebhookconfigurations", func(clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			return false, nil, nil
		}
		conflicts--
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"}, "gitgate", errors.New("changed"))
	})
	inj := &WebhookInjector{Client: client.AdmissionregistrationV1(), Validating: "gitgate"}
	if err := inj.Inject(t.Context(), []byte("new")); err != nil {
		t.Fatal(err)
	}
	v, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), "gitgate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Webhooks[1].ClientConfig.CABundle) != "new" {
		t.Fatal("bundle not injected after conflicts")
	}
}

func TestWebhookInjectorErrors(t *testing.T) {
	client := fake.NewClientset()
	inj := &WebhookInjector{Client: client.AdmissionregistrationV1(), Validating: "gitgate", Mutating: "gitgate-m"}
	err := inj.Inject(t.Context(), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "validatingwebhookconfiguration gitgate") || !strings.Contains(err.Error(), "mutatingwebhookconfiguration gitgate-m") {
		t.Fatalf("missing configurations: %v", err)
	}
	if err := inj.Inject(t.Context(), nil); err == nil {
		t.Fatal("injected an empty bundle")
	}
}
