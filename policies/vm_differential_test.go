package policies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/open-policy-agent/opa/v1/ast"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
)

// The library is evaluated by the VM (policy/vm) and, with WithTopdown, by
// OPA's topdown: these tests hold the VM to topdown's verdicts, result for
// result.

// enginePair is one compilation of the library twice: topdown's engine is
// the reference.
type enginePair struct {
	name        string
	topdown, vm *policy.Engine
}

// diffParameters sets every parameter of the library away from its
// default, so that the second pair also reads data.
var diffParameters = map[string]any{"gitgate": map[string]any{"parameters": map[string]any{
	"images": map[string]any{
		"registries": map[string]any{"allowed": []any{"ghcr.io/acme", "registry.k8s.io"}},
		"pinned":     map[string]any{"require_digest": true},
	},
	"metadata": map[string]any{"required_labels": map[string]any{
		"labels": []any{"app.kubernetes.io/name", "team"},
		"kinds":  []any{"Pod", "Deployment"},
		"values": map[string]any{"team": "^[a-z]+$"},
	}},
	"services": map[string]any{"exposure": map[string]any{"allowed_namespaces": []any{"edge"}}},
	"workloads": map[string]any{
		"probes":    map[string]any{"probes": []any{"readinessProbe"}, "skip_kinds": []any{"Job"}},
		"resources": map[string]any{"limits": []any{"cpu", "memory"}, "requests": []any{"memory"}},
	},
}}}

var (
	pairsOnce sync.Once
	pairs     []enginePair
	pairsErr  error
)

// differentialPairs compiles, once per test binary, the admission profile
// without data and the CI profile with every parameter set.
func differentialPairs(tb testing.TB) []enginePair {
	tb.Helper()
	pairsOnce.Do(func() { pairs, pairsErr = compilePairs() })
	if pairsErr != nil {
		tb.Fatal(pairsErr)
	}
	return pairs
}

func compilePairs() ([]enginePair, error) {
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		return nil, err
	}
	configs := []struct {
		name string
		data map[string]any
		opts []policy.Option
	}{
		// The admission profile's timeout is for a webhook, not for a
		// test on a loaded machine.
		{"admission", nil, []policy.Option{policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces(), policy.WithTimeout(time.Minute)}},
		{"ci with parameters", diffParameters, []policy.Option{policy.WithProfile(policy.ProfileCI), policy.WithAllNamespaces()}},
	}
	var out []enginePair
	for _, c := range configs {
		src := policy.Source{Modules: mods, Data: c.data}
		td, err := policy.Compile(context.Background(), src, append(slices.Clone(c.opts), policy.WithTopdown())...)
		if err != nil {
			return nil, fmt.Errorf("%s, topdown: %w", c.name, err)
		}
		onVM, err := policy.Compile(context.Background(), src, c.opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		// Without this the comparison could pass with topdown on both
		// sides.
		if td.Evaluator() != "topdown" || onVM.Evaluator() != "vm" {
			return nil, fmt.Errorf("%s: evaluators %s and %s, want topdown and vm", c.name, td.Evaluator(), onVM.Evaluator())
		}
		out = append(out, enginePair{name: c.name, topdown: td, vm: onVM})
	}
	return out, nil
}

// agree evaluates input on both engines of each pair and reports where
// the VM's verdict differs from topdown's: the whole Result (failures,
// warnings and exceptions with their metadata, in order, and the count of
// successes), or the reason of an evaluation error.
func agree(ctx context.Context, ps []enginePair, input any) error {
	for _, p := range ps {
		want, werr := p.topdown.Evaluate(ctx, input)
		got, gerr := p.vm.Evaluate(ctx, input)
		if werr != nil || gerr != nil {
			if reason(werr) != reason(gerr) {
				return fmt.Errorf("%s: VM error: %s; topdown error: %s", p.name, errText(gerr), errText(werr))
			}
			continue // the Results carry the errors' texts
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: VM and topdown differ\nVM:      %s\ntopdown: %s", p.name, resultJSON(got), resultJSON(want))
		}
		// The webhook hands its decoded request over as a LazyObject,
		// which the VM reads in place.
		if doc, ok := input.(map[string]any); ok {
			got, gerr = p.vm.EvaluateValue(ctx, ast.LazyObject(doc))
			if gerr != nil || !reflect.DeepEqual(got, want) {
				return fmt.Errorf("%s: VM on the document and topdown differ\nVM:      %s (error %s)\ntopdown: %s", p.name, resultJSON(got), errText(gerr), resultJSON(want))
			}
		}
	}
	return nil
}

func reason(err error) policy.Reason {
	if err == nil {
		return ""
	}
	var ee *policy.EvalError
	if errors.As(err, &ee) {
		return ee.Reason
	}
	return "not an EvalError"
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

func resultJSON(r policy.Result) string {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Sprintf("%+v", r)
	}
	return string(b)
}

// shapeNames are the input shapes of wrappings, sorted.
func shapeNames() []string {
	shapes := wrappings(map[string]any{})
	names := make([]string, 0, len(shapes))
	for name := range shapes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// TestVMAgreesWithTopdownOnPSAFixtures runs every Pod Security Admission
// fixture through both evaluators: in the admission profile as a Pod, a
// Deployment and a CronJob in their two input shapes, and with every
// parameter set in one shape per fixture, taken in turn. (A topdown
// evaluation of the library costs several milliseconds; TestPSAFixtures
// already holds the verdicts to be the same in every shape.)
func TestVMAgreesWithTopdownOnPSAFixtures(t *testing.T) {
	ps := differentialPairs(t)
	admission, withParams := ps[:1], ps[1:]
	names := shapeNames()
	n := 0
	for i, f := range loadPSAFixtures(t) {
		shapes := wrappings(f.pod)
		check := func(pairs []enginePair, shape string) {
			n += len(pairs)
			if err := agree(t.Context(), pairs, shapes[shape]); err != nil {
				t.Errorf("%s/%s/%s, %s: %v", f.level, f.verdict, f.name, shape, err)
			}
		}
		for _, shape := range []string{"Pod admission", "Deployment manifest", "CronJob admission"} {
			check(admission, shape)
		}
		check(withParams, names[i%len(names)])
	}
	t.Logf("%d comparisons", n)
}

// FuzzVMAgreesWithTopdown mutates AdmissionReviews and manifests and holds
// the VM to topdown's verdict on each. doc is a JSON document; ops edits it
// further (mutate), so that the search reaches other shapes even where
// byte mutations of doc break its JSON.
func FuzzVMAgreesWithTopdown(f *testing.F) {
	ps := differentialPairs(f)
	// One seed per fixture, in each input shape in turn; every other one
	// with two edits, which differ from fixture to fixture.
	names := shapeNames()
	for i, fx := range loadPSAFixtures(f) {
		doc, err := json.Marshal(wrappings(fx.pod)[names[i%len(names)]])
		if err != nil {
			f.Fatal(err)
		}
		var ops []byte
		if i%2 == 1 {
			ops = []byte{byte(i), byte(i * 7), byte(i * 13), byte(i * 3), 5, byte(i)}
		}
		f.Add(doc, ops)
	}
	f.Fuzz(func(t *testing.T, doc, ops []byte) {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var input any
		if dec.Decode(&input) != nil {
			return
		}
		input = mutate(input, ops)
		if err := agree(t.Context(), ps, input); err != nil {
			b, _ := json.Marshal(input)
			t.Fatalf("input %s:\n%v", b, err)
		}
	})
}

// mutate applies the edits that ops spells, three bytes each: two choose
// a node of doc (in a walk with object keys sorted), one the edit. The
// values and keys come from the fields the library reads, so that edits
// reach its rules rather than only its type checks. At most maxEdits
// edits are made, so that a document stays small enough to evaluate
// quickly.
func mutate(doc any, ops []byte) any {
	root := map[string]any{"": doc}
	ops = ops[:min(len(ops), 3*maxEdits)]
	for len(ops) >= 3 {
		sites := walk(root, nil)
		if len(sites) == 0 { // the document itself was deleted
			break
		}
		s := sites[(int(ops[0])<<8|int(ops[1]))%len(sites)]
		edit(s, ops[2])
		ops = ops[3:]
	}
	return root[""]
}

// site is a place that holds a value: an object's key or an array's index.
type site struct {
	obj map[string]any
	arr []any
	key string
	idx int
}

func (s site) get() any {
	if s.obj != nil {
		return s.obj[s.key]
	}
	return s.arr[s.idx]
}

func (s site) set(v any) {
	if s.obj != nil {
		s.obj[s.key] = v
	} else {
		s.arr[s.idx] = v
	}
}

func walk(v any, out []site) []site {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, site{obj: x, key: k})
			out = walk(x[k], out)
		}
	case []any:
		for i := range x {
			out = append(out, site{arr: x, idx: i})
			out = walk(x[i], out)
		}
	}
	return out
}

const maxEdits = 12

var fuzzKeys = []string{
	"privileged", "hostNetwork", "hostPID", "hostIPC", "securityContext", "runAsUser", "runAsNonRoot",
	"runAsGroup", "capabilities", "add", "drop", "image", "ports", "hostPort", "containerPort",
	"volumes", "hostPath", "seccompProfile", "type", "sysctls", "procMount", "appArmorProfile",
	"windowsOptions", "hostProcess", "labels", "annotations", "allowPrivilegeEscalation", "seLinuxOptions",
	"initContainers", "ephemeralContainers", "containers", "operation", "subResource", "kind",
	"namespace", "name", "livenessProbe", "readinessProbe", "resources", "limits", "requests",
	"cpu", "memory", "template", "spec", "metadata", "object", "request", "lifecycle", "httpGet", "host",
}

var fuzzValues = []any{
	nil, true, false, json.Number("0"), json.Number("-1"), json.Number("1000"), json.Number("1.5"),
	"", "ALL", "NET_RAW", "SYS_ADMIN", "NET_BIND_SERVICE", "RuntimeDefault", "Unconfined", "Localhost",
	"Unmasked", "Default", "nginx", "nginx:latest", "ghcr.io/acme/web@sha256:" + string(bytes.Repeat([]byte("a"), 64)),
	"kube-system", "edge", "UPDATE", "CREATE", "DELETE", "Pod", "Deployment", "CronJob", "Job", "Service",
	"LoadBalancer", "NodePort", "kernel.shm_rmid_forced", "net.core.somaxconn", "spc_t", "localhost/p",
	[]any{}, map[string]any{}, []any{"ALL"}, map[string]any{"path": "/"},
}

// edit changes the value at s: replaces it, deletes or adds an object key,
// grows an array, or nests the value one level deeper.
func edit(s site, op byte) {
	v := clone(fuzzValues[int(op)%len(fuzzValues)])
	switch op % 5 {
	case 0, 1:
		s.set(v)
	case 2:
		if s.obj != nil {
			delete(s.obj, s.key)
		} else {
			s.set(nil)
		}
	case 3:
		switch x := s.get().(type) {
		case map[string]any:
			x[fuzzKeys[int(op)%len(fuzzKeys)]] = v
		case []any:
			if len(x) <= 8 {
				s.set(append(x, clone(x).([]any)...))
			}
		default:
			s.set(map[string]any{fuzzKeys[int(op)%len(fuzzKeys)]: x})
		}
	case 4:
		s.set([]any{s.get()})
	}
}

// clone copies v's objects and arrays, so that edits stay in one input.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}
