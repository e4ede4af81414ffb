package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	apijson "k8s.io/apimachinery/pkg/util/json"
	apiyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"gitgate.dev/gitgate/provenance"
)

// kustomize builds the kustomization in folder dir and adds its output.
//
// kustomize reaches the host in two ways that no option turns off: a
// resource or base that looks like a git URL is cloned with the git binary
// into a temporary folder, and a file path with an http(s) scheme is
// fetched. Both happen only for strings that a kustomization (or a
// generator or transformer config it loads) names, so every such string
// is checked before the build (analysis and kcheck).
func (r *renderer) kustomize(dir string) error {
	if r.kfs == nil {
		r.kfs = &memFS{fs: filesys.MakeFsInMemory(), folders: map[string]string{}, files: map[string]bool{}}
	}
	a := &analysis{r: r, counts: map[folderMode]int{}, onStack: map[string]bool{}}
	kfile, err := a.root(dir)
	if err != nil {
		return err
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	outputs, err := build(r.kfs.fs, dir)
	if err != nil {
		return pathError(kfile, err)
	}
	for i, v := range outputs {
		objs, err := objectsOf(v)
		if err != nil {
			return pathError(kfile, fmt.Errorf("output object %d: %w", i+1, err))
		}
		for _, o := range objs {
			if err := r.add(Object{Object: o, Path: kfile}); err != nil {
				return err
			}
		}
	}
	return nil
}

// kustomizeMu serializes builds: kustomize keeps the OpenAPI schema that a
// kustomization may choose (its openapi field) in a package variable.
var kustomizeMu sync.Mutex

// build runs kustomize on the in-memory file system with everything that
// reaches beyond it turned off, and returns the output as JSON values.
func build(fs filesys.FileSystem, dir string) (out []any, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: kustomize panicked: %v", ErrKustomize, p)
		}
	}()
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.AddManagedbyLabel = false
	opts.PluginConfig = types.DisabledPluginConfig() // builtins only, statically linked
	opts.PluginConfig.HelmConfig = types.HelmConfig{Enabled: false}
	opts.PluginConfig.FnpLoadingOptions = types.FnPluginLoadingOptions{} // no exec, network or mounts
	m, err := krusty.MakeKustomizer(opts).Run(fs, "/"+dir)
	if err != nil {
		if types.IsErrOnlyBuiltinPluginsAllowed(err) {
			return nil, fmt.Errorf("%w: %w", ErrDisabled, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrKustomize, err)
	}
	for _, res := range m.Resources() {
		j, err := res.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrKustomize, res.CurId(), err)
		}
		var v any
		if err := apijson.Unmarshal(j, &v); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrKustomize, res.CurId(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// memFS is kustomize's view of the repository: files read through the
// Tree, under "/", and nothing else.
type memFS struct {
	fs filesys.FileSystem
	// folders maps each folder whose whole subtree is loaded to its
	// kustomization file ("" when it has none).
	folders map[string]string
	files   map[string]bool
}

// loadFolder loads every file under folder dir into the in-memory file
// system and returns dir's kustomization file. isDir is false when dir is
// not a folder of the commit. A symlink or submodule anywhere under dir is
// an error: kustomize could be asked to read any file of a folder.
func (r *renderer) loadFolder(dir string) (kfile string, isDir bool, err error) {
	if kf, ok := r.kfs.folders[dir]; ok {
		return kf, true, nil
	}
	files, err := r.list(dir)
	if errors.Is(err, provenance.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var kfiles []string
	for _, f := range files {
		if f.Kind != provenance.KindFile && f.Kind != provenance.KindExecutable {
			return "", true, pathError(f.Path, fmt.Errorf("%w: it is a %s in kustomization folder %s", ErrNotRegular, f.Kind, displayDir(dir)))
		}
		if parentDir(f.Path) == dir && isKustomizationFile(f.Path) {
			kfiles = append(kfiles, f.Path)
		}
		if r.kfs.files[f.Path] {
			continue
		}
		if err := r.ctx.Err(); err != nil {
			return "", true, err
		}
		data, err := r.read(f.Path)
		if err != nil {
			return "", true, err
		}
		if err := checkEmbedded(data, r.opts.limits()); err != nil {
			return "", true, pathError(f.Path, err)
		}
		if err := r.kfs.fs.WriteFile("/"+f.Path, data); err != nil {
			return "", true, pathError(f.Path, fmt.Errorf("%w: %w", ErrKustomize, err))
		}
		r.kfs.files[f.Path] = true
	}
	if len(kfiles) > 1 {
		return "", true, pathError(displayDir(dir), fmt.Errorf("%w: more than one kustomization file: %s", ErrKustomize, strings.Join(kfiles, ", ")))
	}
	kf := ""
	if len(kfiles) == 1 {
		kf = kfiles[0]
	}
	r.kfs.folders[dir] = kf
	return kf, true, nil
}

func displayDir(d string) string {
	if d == "" {
		return "(repository root)"
	}
	return d
}

// checkEmbedded looks for YAML alias bombs and excessive nesting in data,
// which may or may not be YAML: kustomize parses files that its
// kustomizations name (and inline patches) with decoders of its own, so
// they are checked first. Data that is not YAML is kustomize's to report;
// only a limit is an error here. Only text with both an anchor and an
// alias can expand, and the scanner caps nesting at 10,000 on its own, so
// other files are not parsed.
func checkEmbedded(data []byte, lim limits) error {
	if !bytes.Contains(data, []byte("&")) || !bytes.Contains(data, []byte("*")) {
		return nil
	}
	for n, raw := range chunks(data) {
		if err := checkYAML(raw, lim); errors.Is(err, ErrLimit) {
			return fmt.Errorf("document %d: %w", n, err)
		}
	}
	return nil
}

// chunks yields the documents of data as kubectl's reader splits them,
// numbered from 1. It stops at the end or at a separator the reader
// refuses: what is left is kustomize's to parse and report.
func chunks(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		rd := apiyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for n := 1; ; n++ {
			raw, err := rd.Read()
			if err != nil || !yield(n, raw) {
				return
			}
		}
	}
}

// folderMode is a kustomization folder and whether its resources are
// generator, transformer or validator configurations.
type folderMode struct {
	dir    string
	config bool
}

// analysis walks the kustomizations a build will load, before the build.
type analysis struct {
	r       *renderer
	counts  map[folderMode]int // kustomization loads below a folder, itself included
	onStack map[string]bool
}

// root analyzes the kustomization in dir and returns its file.
func (a *analysis) root(dir string) (string, error) {
	kfile, isDir, err := a.r.loadFolder(dir)
	if err != nil {
		return "", err
	}
	if !isDir || kfile == "" {
		return "", pathError(displayDir(dir), fmt.Errorf("%w: no kustomization file", ErrNotFound))
	}
	if _, err := a.visit(folderMode{dir: dir}, kfile); err != nil {
		return "", err
	}
	return kfile, nil
}

// visit checks the kustomization kfile of folder fm.dir and every folder it
// refers to, and returns how many kustomization loads a build of it makes.
func (a *analysis) visit(fm folderMode, kfile string) (int, error) {
	if n, ok := a.counts[fm]; ok {
		return n, nil
	}
	a.onStack[fm.dir] = true
	defer delete(a.onStack, fm.dir)

	data, err := a.r.read(kfile)
	if err != nil {
		return 0, err
	}
	docs, err := decodeDocuments(kfile, data, a.r.opts.limits())
	if err != nil {
		return 0, err
	}
	c := &kcheck{a: a, kfile: kfile, dir: fm.dir, config: fm.config}
	for _, d := range docs {
		k, ok := d.v.(map[string]any)
		if d.v != nil && !ok {
			return 0, docError(kfile, d.n, fmt.Errorf("%w: a kustomization is a mapping, not a %s", ErrKustomize, jsonType(d.v)))
		}
		if err := c.check(k); err != nil {
			return 0, err
		}
	}
	n := 1
	for _, child := range c.children {
		ckfile, isDir, err := a.r.loadFolder(child.dir)
		if err != nil {
			return 0, err
		}
		if !isDir || ckfile == "" {
			// Not a kustomization folder: kustomize reports it.
			continue
		}
		if a.onStack[child.dir] {
			return 0, pathError(kfile, fmt.Errorf("%w: it refers back to %s, a cycle", ErrKustomize, ckfile))
		}
		cn, err := a.visit(child, ckfile)
		if err != nil {
			return 0, err
		}
		n = min(n+cn, a.r.opts.MaxKustomizations+1)
	}
	if n > a.r.opts.MaxKustomizations {
		return 0, pathError(kfile, limitf("a build of this kustomization loads more than %d kustomizations", a.r.opts.MaxKustomizations))
	}
	a.counts[fm] = n
	return n, nil
}

// kcheck checks one kustomization file.
type kcheck struct {
	a        *analysis
	kfile    string
	dir      string
	config   bool
	children []folderMode
}

func (c *kcheck) errorf(format string, args ...any) error {
	return pathError(c.kfile, fmt.Errorf(format, args...))
}

// check refuses what a build must not do and collects the folders the
// kustomization refers to. The fields are those of kustomize's
// Kustomization type that name files or folders; kustomize rejects unknown
// fields, so a path cannot hide elsewhere.
func (c *kcheck) check(k map[string]any) error {
	if err := c.embedded(k); err != nil {
		return err
	}
	for _, f := range []string{"helmCharts", "helmGlobals", "helmChartInflationGenerator"} {
		if v, ok := k[f]; ok && v != nil {
			return c.errorf("%s: helm chart inflation is %w", f, ErrDisabled)
		}
	}
	for _, f := range []string{"resources", "bases", "components"} {
		for _, e := range stringsOf(k[f]) {
			if err := c.resource(f, e, c.config); err != nil {
				return err
			}
		}
	}
	for _, f := range []string{"generators", "transformers", "validators"} {
		for _, e := range stringsOf(k[f]) {
			if err := c.plugin(f, e); err != nil {
				return err
			}
		}
	}
	for _, f := range []string{"crds", "configurations"} {
		for _, e := range stringsOf(k[f]) {
			if err := c.file(f, e); err != nil {
				return err
			}
		}
	}
	if openapi, ok := k["openapi"].(map[string]any); ok {
		if p, ok := openapi["path"].(string); ok {
			if err := c.file("openapi.path", p); err != nil {
				return err
			}
		}
	}
	for _, e := range stringsOf(k["patchesStrategicMerge"]) {
		if strings.Contains(e, "\n") {
			continue // an inline patch, which kustomize does not load
		}
		if err := c.file("patchesStrategicMerge", e); err != nil {
			return err
		}
	}
	for _, f := range []string{"patches", "patchesJson6902", "replacements"} {
		for _, m := range mapsOf(k[f]) {
			if p, ok := m["path"].(string); ok {
				if err := c.file(f+".path", p); err != nil {
					return err
				}
			}
		}
	}
	return c.generatorSources(k)
}

// generatorSources checks the files of configMapGenerator and
// secretGenerator: "files" entries are "[key=]path", "envs" and "env"
// paths.
func (c *kcheck) generatorSources(k map[string]any) error {
	for _, f := range []string{"configMapGenerator", "secretGenerator"} {
		for _, g := range mapsOf(k[f]) {
			for _, e := range stringsOf(g["files"]) {
				if looksRemote(e) {
					return c.errorf("%s.files entry %q is remote: %w", f, e, ErrDisabled)
				}
				p := e
				if _, after, ok := strings.Cut(e, "="); ok {
					p = after
				}
				if err := c.file(f+".files", p); err != nil {
					return err
				}
			}
			envs := stringsOf(g["envs"])
			if env, ok := g["env"].(string); ok {
				envs = append(envs, env)
			}
			for _, e := range envs {
				if err := c.file(f+".envs", e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// embedded checks every string of the kustomization that could be YAML
// with aliases (inline patches and configs), for the limits.
func (c *kcheck) embedded(v any) error {
	switch v := v.(type) {
	case string:
		if err := checkEmbedded([]byte(v), c.a.r.opts.limits()); err != nil {
			return c.errorf("inline YAML: %w", err)
		}
	case map[string]any:
		for _, x := range v {
			if err := c.embedded(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := c.embedded(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// ref resolves entry e of field f to a repository path.
func (c *kcheck) ref(f, e string) (string, error) {
	if looksRemote(e) {
		return "", c.errorf("%s entry %q is remote: %w", f, e, ErrDisabled)
	}
	if strings.HasPrefix(e, "/") {
		return "", c.errorf("%s entry %q is absolute: %w", f, e, ErrUnsafePath)
	}
	target := path.Join(c.dir, e)
	if target == ".." || strings.HasPrefix(target, "../") {
		return "", c.errorf("%s entry %q: %w", f, e, ErrUnsafePath)
	}
	if target == "." {
		target = ""
	}
	return target, nil
}

// within reports whether target is dir or below it.
func within(target, dir string) bool {
	return dir == "" || target == dir || strings.HasPrefix(target, dir+"/")
}

// file checks an entry that kustomize loads as a file. Under its default
// load restrictions kustomize reads files only at or below the
// kustomization's folder; the check says so before kustomize would.
func (c *kcheck) file(f, e string) error {
	target, err := c.ref(f, e)
	if err != nil {
		return err
	}
	if !within(target, c.dir) {
		return c.errorf("%s entry %q is outside the kustomization's folder: %w (kustomize loads files only from its folder and below; refer to a folder with its own kustomization instead)", f, e, ErrUnsafePath)
	}
	return nil
}

// resource checks a resources, bases or components entry: a file, or a
// folder with a kustomization that the build loads. Under a config folder
// (one named by generators, transformers or validators) files are plugin
// configurations and are checked as such.
func (c *kcheck) resource(f, e string, config bool) error {
	target, err := c.ref(f, e)
	if err != nil {
		return err
	}
	_, isDir, err := c.a.r.loadFolder(target)
	if err != nil {
		return err
	}
	if isDir {
		c.children = append(c.children, folderMode{dir: target, config: config})
		return nil
	}
	if !within(target, c.dir) {
		return c.errorf("%s entry %q is outside the kustomization's folder: %w (kustomize loads files only from its folder and below; refer to a folder with its own kustomization instead)", f, e, ErrUnsafePath)
	}
	if config && c.a.r.kfs.files[target] {
		return c.configFile(target)
	}
	return nil
}

// plugin checks a generators, transformers or validators entry: an inline
// configuration, a configuration file, or a kustomization folder whose
// output is configurations.
func (c *kcheck) plugin(f, e string) error {
	docs, err := decodeDocuments(c.kfile, []byte(e), c.a.r.opts.limits())
	if errors.Is(err, ErrLimit) {
		return err
	}
	if err == nil && hasMapping(docs) {
		for _, d := range docs {
			if err := c.configDoc(d.v); err != nil {
				return c.errorf("inline %s entry: %w", f, err)
			}
		}
		return nil
	}
	return c.resource(f, e, true)
}

func hasMapping(docs []document) bool {
	for _, d := range docs {
		if _, ok := d.v.(map[string]any); ok {
			return true
		}
	}
	return false
}

// configFile checks a generator, transformer or validator configuration
// file.
func (c *kcheck) configFile(p string) error {
	data, err := c.a.r.kfs.fs.ReadFile("/" + p)
	if err != nil {
		return pathError(p, fmt.Errorf("%w: %w", ErrKustomize, err))
	}
	docs, err := decodeDocuments(p, data, c.a.r.opts.limits())
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := c.configDoc(d.v); err != nil {
			return docError(p, d.n, fmt.Errorf("used by %s: %w", c.kfile, err))
		}
	}
	return nil
}

// configDoc refuses a plugin configuration that is not one of kustomize's
// builtins (exec and container functions, Go plugins), that inflates helm
// charts, or that names anything remote anywhere (builtins such as
// PatchTransformer load the paths they are given).
func (c *kcheck) configDoc(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: a configuration is a mapping, not a %s", ErrKustomize, jsonType(v))
	}
	av, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if av != "builtin" {
		return fmt.Errorf("plugin %s %q is not one of kustomize's builtins: %w", kind, av, ErrDisabled)
	}
	if kind == "HelmChartInflationGenerator" {
		return fmt.Errorf("%s: helm chart inflation is %w", kind, ErrDisabled)
	}
	return walkStrings(m, func(s string) error {
		if looksRemote(s) {
			return fmt.Errorf("%s names %q, which is remote: %w", kind, s, ErrDisabled)
		}
		return nil
	})
}

func walkStrings(v any, fn func(string) error) error {
	switch v := v.(type) {
	case string:
		return fn(v)
	case map[string]any:
		for _, x := range v {
			if err := walkStrings(x, fn); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := walkStrings(x, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func stringsOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func mapsOf(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// scpUser is the user part of an scp-style git URL (git@host:org/repo),
// as kustomize recognizes it.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// looksRemote reports whether kustomize could treat s as a remote file or
// git repository. It is a superset of kustomize's own tests (an http or
// https URL for files; for bases a URL with any of its schemes, an
// scp-style address, or a github.com path, each after an optional "git::"
// prefix), so that nothing kustomize would fetch gets through.
func looksRemote(s string) bool {
	t := s
	if len(t) >= 5 && strings.EqualFold(t[:5], "git::") {
		return true
	}
	if strings.Contains(t, "://") || scpUser.MatchString(t) {
		return true
	}
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "github.com/") || strings.HasPrefix(lower, "github.com:") {
		return true
	}
	u, err := url.Parse(t)
	return err == nil && u.Scheme != ""
}
