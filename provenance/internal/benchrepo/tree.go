package benchrepo

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
)

// treeState is the current content of the generated work tree: the trust
// policy and one config.yaml per application folder. Writing it stores only
// the objects that changed since the last write (Git dedups by hash anyway,
// this just saves hashing).
type treeState struct {
	policy   string
	configs  [apps]string
	appTrees [apps]plumbing.Hash
	dirty    [apps]bool
	gitgate  plumbing.Hash
}

func newTreeState(policy string) *treeState {
	t := &treeState{policy: policy}
	for i := range t.configs {
		t.configs[i] = fmt.Sprintf("app: app-%03d\nrevision: 0\nreplicas: 1\n", i)
		t.dirty[i] = true
	}
	return t
}

func (t *treeState) set(app int, content string) {
	t.configs[app] = content
	t.dirty[app] = true
}

type entry struct {
	mode string
	name string
	hash plumbing.Hash
}

func (t *treeState) write(w objectWriter) (plumbing.Hash, error) {
	if t.gitgate.IsZero() {
		blob, err := writeObject(w, plumbing.BlobObject, []byte(t.policy))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if t.gitgate, err = writeTree(w, []entry{{"100644", "trust.yaml", blob}}); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	appsEntries := make([]entry, apps)
	for i := range t.configs {
		if t.dirty[i] {
			blob, err := writeObject(w, plumbing.BlobObject, []byte(t.configs[i]))
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if t.appTrees[i], err = writeTree(w, []entry{{"100644", "config.yaml", blob}}); err != nil {
				return plumbing.ZeroHash, err
			}
			t.dirty[i] = false
		}
		appsEntries[i] = entry{"40000", fmt.Sprintf("app-%03d", i), t.appTrees[i]}
	}
	appsTree, err := writeTree(w, appsEntries)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return writeTree(w, []entry{{"40000", ".gitgate", t.gitgate}, {"40000", "apps", appsTree}})
}

// writeTree stores a tree in Git's entry order (folders sort as name + "/").
func writeTree(w objectWriter, entries []entry) (plumbing.Hash, error) {
	key := func(e entry) string {
		if e.mode == "40000" {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	var b bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s\x00", e.mode, e.name)
		b.Write(e.hash[:])
	}
	return writeObject(w, plumbing.TreeObject, b.Bytes())
}
