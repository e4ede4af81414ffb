package trust

import (
	"gopkg.in/yaml.v3"
)

func (d *decoder) rules(n *yaml.Node, names *nameTable, x *expander) ([]Rule, error) {
	seq, err := d.sequence(n, "rules")
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, 0, len(seq))
	for i, rn := range seq {
		r, err := d.rule(rn, index("rules", i), i, names, x)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (d *decoder) rule(n *yaml.Node, field string, i int, names *nameTable, x *expander) (Rule, error) {
	r := Rule{Index: i, Line: n.Line, Approvals: 1}
	obj, err := d.object(n, field, "paths", "signers", "approvals")
	if err != nil {
		return r, err
	}
	e, ok := obj.get("paths")
	if !ok {
		return r, d.failf(n, field+".paths", "missing; a rule needs at least one path glob")
	}
	if err := d.rulePaths(e.val, field+".paths", &r); err != nil {
		return r, err
	}
	if e, ok = obj.get("signers"); !ok {
		return r, d.failf(n, field+".signers", "missing; a rule needs at least one signer or group")
	}
	if err := d.ruleSigners(e.val, field+".signers", &r, names, x); err != nil {
		return r, err
	}
	if e, ok := obj.get("approvals"); ok {
		if err := d.approvals(e.val, field+".approvals", &r); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (d *decoder) rulePaths(n *yaml.Node, field string, r *Rule) error {
	seq, err := d.sequence(n, field)
	if err != nil {
		return err
	}
	if len(seq) == 0 {
		return d.failf(n, field, "empty; a rule needs at least one path glob")
	}
	r.Paths = make([]string, 0, len(seq))
	r.globs = make([]glob, 0, len(seq))
	for i, pn := range seq {
		f := index(field, i)
		s, err := d.str(pn, f)
		if err != nil {
			return err
		}
		g, err := compileGlob(s)
		if err != nil {
			return d.failf(pn, f, "invalid glob %q: %w", s, err)
		}
		r.Paths = append(r.Paths, s)
		r.globs = append(r.globs, g)
	}
	return nil
}

func (d *decoder) ruleSigners(n *yaml.Node, field string, r *Rule, names *nameTable, x *expander) error {
	refs, err := d.refs(n, field, "a rule needs at least one signer or group")
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := d.resolve(names, ref); err != nil {
			return err
		}
	}
	set, err := x.union(refs)
	if err != nil {
		return err
	}
	r.Signers = x.signerNames(set)
	return nil
}

func (d *decoder) approvals(n *yaml.Node, field string, r *Rule) error {
	v, err := d.integer(n, field)
	if err != nil {
		return err
	}
	if v < 1 {
		return d.failf(n, field, "must be at least 1, got %d", v)
	}
	// More approvals than authorized signers can never be met: the paths
	// would be frozen by accident, so say so now.
	if v > len(r.Signers) {
		return d.failf(n, field, "%d approvals needed but the rule authorizes only %d signer(s)", v, len(r.Signers))
	}
	r.Approvals = v
	return nil
}
