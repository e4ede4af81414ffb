package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/render"
)

const (
	// libraryAll enables every policy of the library.
	libraryAll = "all"
	// maxModuleSize caps one Rego file read from the repository; real
	// policies are a few KiB, and the cap keeps a hostile commit from
	// handing the compiler a huge module.
	maxModuleSize = 1 << 20
	// maxDenialsShown bounds the policy messages in the PolicyPassed
	// condition and the Event; the count says how many there were.
	maxDenialsShown = 10
)

// checkPolicy compiles spec.policy and runs it over every rendered object;
// a deny keeps the commit out.
func (r *Reconciler) checkPolicy(ctx context.Context, s *syncRun) error {
	if s.unchanged {
		s.policyPassed = true
		return nil
	}
	engine, err := engineFor(ctx, s.gs, s.st, s.snap)
	if err != nil {
		return fail(v1alpha1.ConditionPolicyPassed, reasonPolicyInvalid, err)
	}
	s.engine = engine
	if engine == nil {
		s.policyPassed = true
		return nil
	}
	denials, warnings, err := evaluateAll(ctx, engine, s.objects, r.opts.ApplyConcurrency)
	if err != nil {
		return fail(v1alpha1.ConditionPolicyPassed, reasonPolicyInvalid, err)
	}
	s.warnings = warnings
	if len(denials) > 0 {
		return fail(v1alpha1.ConditionPolicyPassed, reasonPolicyDenied, denialError(s.snap.Head, denials))
	}
	s.policyPassed = true
	return nil
}

// engineFor returns the compiled policy of gs, its Rego read from tree,
// or nil when it has none. The engine is kept in st and reused while the
// modules and data are the same, so a commit that does not touch the Rego
// is not recompiled.
func engineFor(ctx context.Context, gs *v1alpha1.GitSource, st *sourceState, tree render.Tree) (*policy.Engine, error) {
	spec := gs.Spec.Policy
	if spec == nil || (len(spec.Paths) == 0 && len(spec.Library) == 0) {
		return nil, nil
	}
	src, err := policySource(tree, spec)
	if err != nil {
		return nil, err
	}
	key := sourceKey(src, spec)
	if st.engine != nil && st.policyKey == key {
		return st.engine, nil
	}
	engine, err := policy.Compile(ctx, src, policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces(), policy.WithMessagesOnly())
	if err != nil {
		return nil, fmt.Errorf("compile policy: %w", err)
	}
	st.engine, st.policyKey = engine, key
	st.compiles++
	return engine, nil
}

// policySource reads the Rego of spec from the commit and the library.
// Module names keep the two apart: "repo/<path>" and "library/<path>".
func policySource(tree render.Tree, spec *v1alpha1.PolicySpec) (policy.Source, error) {
	src := policy.Source{Modules: map[string][]byte{}}
	for _, p := range spec.Paths {
		if err := repoModules(tree, p, src.Modules); err != nil {
			return src, err
		}
	}
	lib, err := libraryModules(spec.Library)
	if err != nil {
		return src, err
	}
	for name, data := range lib {
		src.Modules["library/"+name] = data
	}
	if spec.Data != nil && len(spec.Data.Raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(spec.Data.Raw))
		dec.UseNumber()
		if err := dec.Decode(&src.Data); err != nil {
			return src, fmt.Errorf("spec.policy.data: %w", err)
		}
	}
	return src, nil
}

// repoModules adds the Rego files under p (a folder or one file) in the
// commit. Test files are left to `gitgate test`, as everywhere else.
func repoModules(tree render.Tree, p string, into map[string][]byte) error {
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if clean == "." {
		clean = ""
	}
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("policy path %q leaves the repository", p)
	}
	read := func(name string) error {
		data, err := tree.ReadFile(name, maxModuleSize)
		if err != nil {
			return fmt.Errorf("policy file %s: %w", name, err)
		}
		into["repo/"+name] = data
		return nil
	}
	err := tree.Walk(clean, func(f provenance.File) error {
		if !isPolicyFile(f.Path) {
			return nil
		}
		return read(f.Path)
	})
	if errors.Is(err, provenance.ErrNotExist) && isPolicyFile(clean) {
		return read(clean)
	}
	if errors.Is(err, provenance.ErrNotExist) {
		return fmt.Errorf("policy path %q: no such folder or Rego file in the commit", p)
	}
	return err
}

func isPolicyFile(name string) bool {
	return strings.HasSuffix(name, ".rego") && !strings.HasSuffix(name, "_test.rego")
}

// libraryModules reads the chosen folders of the embedded library, with
// lib/ (the helpers they import).
func libraryModules(names []string) (map[string][]byte, error) {
	if len(names) == 0 {
		return nil, nil
	}
	lib := policies.FS()
	roots := []string{"lib"}
	for _, n := range names {
		if n == libraryAll {
			mods, err := policy.ReadModulesFS(lib)
			if err != nil {
				return nil, fmt.Errorf("read the policy library: %w", err)
			}
			return mods, nil
		}
		clean := path.Clean(n)
		fi, err := fs.Stat(lib, clean)
		if err != nil || !fi.IsDir() || !fs.ValidPath(clean) || clean == "." {
			return nil, fmt.Errorf("spec.policy.library: no library policy %q", n)
		}
		roots = append(roots, clean)
	}
	mods, err := policy.ReadModulesFS(lib, roots...)
	if err != nil {
		return nil, fmt.Errorf("read the policy library: %w", err)
	}
	return mods, nil
}

// sourceKey identifies compiled policy by what went into it.
func sourceKey(src policy.Source, spec *v1alpha1.PolicySpec) string {
	h := sha256.New()
	names := make([]string, 0, len(src.Modules))
	for n := range src.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%d:%s%d:", len(n), n, len(src.Modules[n]))
		h.Write(src.Modules[n])
	}
	if spec.Data != nil {
		fmt.Fprintf(h, "data%d:", len(spec.Data.Raw))
		h.Write(spec.Data.Raw)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// denial is one deny message on one object.
type denial struct {
	object string
	path   string
	msg    string
}

// evaluateAll runs engine over every object with n workers and returns the
// denials in object order and the number of warnings. An evaluation that
// fails is a denial (the engine reports it so), never a pass.
func evaluateAll(ctx context.Context, engine *policy.Engine, objs []render.Object, n int) ([]denial, int, error) {
	results := make([][]denial, len(objs))
	var (
		mu       sync.Mutex
		warnings int
	)
	errs := forEach(ctx, len(objs), n, func(ctx context.Context, i int) error {
		o := objs[i]
		res, err := engine.Evaluate(ctx, o.Object.Object)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := o.Key().String()
		for _, m := range res.Failures {
			results[i] = append(results[i], denial{object: name, path: o.Path, msg: m.Msg})
		}
		if err != nil && len(res.Failures) == 0 {
			results[i] = append(results[i], denial{object: name, path: o.Path, msg: err.Error()})
		}
		mu.Lock()
		warnings += len(res.Warnings)
		mu.Unlock()
		return nil
	})
	if len(errs) > 0 {
		return nil, 0, errs[0]
	}
	var out []denial
	for _, ds := range results {
		out = append(out, ds...)
	}
	return out, warnings, nil
}

func denialError(head string, ds []denial) error {
	var b strings.Builder
	fmt.Fprintf(&b, "commit %s denied by policy (%d violations): ", short(head), len(ds))
	for i, d := range ds {
		if i == maxDenialsShown {
			fmt.Fprintf(&b, "; and %d more", len(ds)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s): %s", d.object, d.path, d.msg)
	}
	return errors.New(b.String())
}
