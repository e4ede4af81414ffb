package trust

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxExpansion caps the signer entries produced while expanding groups and
// rules. Nested groups can multiply (many groups each naming one big group),
// so without a cap a small file could demand gigabytes; a real policy stays
// far below it.
const maxExpansion = 1 << 20

// ref is a signer or group name used in a group or a rule.
type ref struct {
	name  string
	node  *yaml.Node
	field string
}

type groupDef struct {
	name    string
	members []ref
}

// nameTable holds the names the policy defines.
type nameTable struct {
	signers map[string]bool
	groups  map[string]*groupDef
	order   []string // group names in document order, for stable errors
}

func newNames() *nameTable {
	return &nameTable{signers: map[string]bool{}, groups: map[string]*groupDef{}}
}

func (d *decoder) groups(n *yaml.Node, names *nameTable) error {
	es, err := d.entries(n, "groups")
	if err != nil {
		return err
	}
	for _, e := range es {
		field := join("groups", e.name)
		if err := d.checkName(e.key, field, e.name); err != nil {
			return err
		}
		if names.signers[e.name] {
			return d.failf(e.key, field, "%q is both a signer and a group", e.name)
		}
		members, err := d.refs(e.val, field, "a group needs at least one member")
		if err != nil {
			return err
		}
		names.groups[e.name] = &groupDef{name: e.name, members: members}
		names.order = append(names.order, e.name)
	}
	// Resolve once all groups are known: a group may name one defined below it.
	for _, g := range names.order {
		for _, r := range names.groups[g].members {
			if err := d.resolve(names, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// refs reads a non-empty list of signer or group names.
func (d *decoder) refs(n *yaml.Node, field, emptyMsg string) ([]ref, error) {
	seq, err := d.sequence(n, field)
	if err != nil {
		return nil, err
	}
	if len(seq) == 0 {
		return nil, d.failf(n, field, "empty; %s", emptyMsg)
	}
	out := make([]ref, 0, len(seq))
	for i, m := range seq {
		f := index(field, i)
		name, err := d.str(m, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ref{name: name, node: m, field: f})
	}
	return out, nil
}

func (d *decoder) resolve(names *nameTable, r ref) error {
	if names.signers[r.name] || names.groups[r.name] != nil {
		return nil
	}
	return d.failf(r.node, r.field, "unknown signer or group %q", r.name)
}

// expander resolves groups to sorted sets of signer indexes. Signers are
// numbered in name order, so a sorted index set maps to sorted names.
type expander struct {
	d       *decoder
	names   *nameTable
	signers []string
	index   map[string]int
	groups  map[string][]int
	state   map[string]visit
	stack   []string // groups being expanded, for naming a cycle
	work    int
	mark    []int // mark[i] == gen: signer i is already in the set being built
	gen     int
}

type visit uint8

const (
	unvisited visit = iota
	visiting
	done
)

// expandGroups expands every group, used or not, so that a cycle anywhere
// is reported.
func (d *decoder) expandGroups(names *nameTable) (*expander, error) {
	signers := make([]string, 0, len(names.signers))
	for s := range names.signers {
		signers = append(signers, s)
	}
	slices.Sort(signers)
	x := &expander{
		d: d, names: names, signers: signers,
		index:  make(map[string]int, len(signers)),
		groups: make(map[string][]int, len(names.groups)),
		state:  make(map[string]visit, len(names.groups)),
		mark:   make([]int, len(signers)),
	}
	for i, s := range signers {
		x.index[s] = i
	}
	for _, g := range names.order {
		if err := x.expand(g); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (x *expander) expand(group string) error {
	if x.state[group] == done {
		return nil
	}
	x.state[group] = visiting
	x.stack = append(x.stack, group)
	g := x.names.groups[group]
	for _, m := range g.members {
		if x.names.groups[m.name] == nil {
			continue
		}
		switch x.state[m.name] {
		case visiting:
			return x.cycle(m)
		case unvisited:
			if err := x.expand(m.name); err != nil {
				return err
			}
		}
	}
	set, err := x.union(g.members)
	if err != nil {
		return err
	}
	x.groups[group] = set
	x.state[group] = done
	x.stack = x.stack[:len(x.stack)-1]
	return nil
}

func (x *expander) cycle(closing ref) error {
	start := slices.Index(x.stack, closing.name)
	path := append(slices.Clone(x.stack[start:]), closing.name)
	return x.d.failf(closing.node, closing.field, "group cycle: %s", strings.Join(path, " -> "))
}

// union returns the sorted, unique signer indexes that refs name, with
// groups already expanded.
func (x *expander) union(refs []ref) ([]int, error) {
	x.gen++
	var out []int
	for _, r := range refs {
		if i, ok := x.index[r.name]; ok {
			x.work++
			out = x.add(out, i)
			continue
		}
		sub := x.groups[r.name]
		x.work += len(sub)
		if x.work > maxExpansion {
			return nil, x.d.failf(r.node, r.field, "groups expand to more than %d signer entries; flatten the groups", maxExpansion)
		}
		for _, i := range sub {
			out = x.add(out, i)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (x *expander) add(out []int, i int) []int {
	if x.mark[i] == x.gen {
		return out
	}
	x.mark[i] = x.gen
	return append(out, i)
}

func (x *expander) signerNames(set []int) []string {
	out := make([]string, len(set))
	for j, i := range set {
		out[j] = x.signers[i]
	}
	return out
}
