package vm

// fuse rewrites b's literal arrays and objects. The planner builds
// `["a", x]` as MakeArray followed by one ArrayAppend per element (and an
// object as MakeObject and ObjectInserts), and each append copies the
// array's header. A run that only builds one value, with nothing in
// between but statements that make scalars, becomes one instruction after
// those statements, which builds the value at its final size.
func fuse(b *block) {
	out := make([]instr, 0, len(b.instrs))
	for i := 0; i < len(b.instrs); i++ {
		in := b.instrs[i]
		if in.op == opMakeArray || in.op == opMakeObject {
			if built, n := fuseRun(b.instrs[i:]); n > 0 {
				for _, s := range b.instrs[i+1 : i+n] {
					if isScalar(s.op) {
						out = append(out, s)
					}
				}
				out = append(out, built)
				i += n - 1
				continue
			}
		}
		out = append(out, in)
	}
	b.instrs = out
}

// fuseRun takes a MakeArray or MakeObject and the statements after it, and
// returns the fused instruction and the length of the run, up to its last
// append or insert; n == 0 when there is nothing to fuse.
func fuseRun(run []instr) (built instr, n int) {
	mk := run[0]
	add, op := opArrayAppend, opBuildArray
	if mk.op == opMakeObject {
		add, op = opObjectInsert, opBuildObject
	}
	built = instr{op: op, c: mk.c, loc: mk.loc}
	for j := 1; j < len(run); j++ {
		in := run[j]
		switch {
		case in.op == add && in.c == mk.c:
			ops := []int32{in.a}
			if add == opObjectInsert {
				ops = append(ops, in.b)
			}
			if contains(ops, mk.c) {
				return built, n
			}
			built.args = append(built.args, ops...)
			n = j + 1
		case isScalar(in.op) && in.c != mk.c && !contains(built.args, in.c):
			// A scalar made in the run, used by a later element.
		default:
			return built, n
		}
	}
	return built, n
}

func contains(ops []int32, slot int32) bool {
	for _, o := range ops {
		if o == slot {
			return true
		}
	}
	return false
}

func isScalar(op opcode) bool {
	return op == opMakeNull || op == opMakeNumberInt || op == opMakeNumberRef
}
