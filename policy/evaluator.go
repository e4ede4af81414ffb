package policy

// Evaluator names what evaluates the engine's query: "vm" when OPA's
// planner and the VM (policy/vm) took it, "topdown" when WithTopdown asked
// for topdown or the VM could not run the query. Tests that compare the two
// use it to know they do.
func (e *Engine) Evaluator() string {
	if e.program != nil {
		return "vm"
	}
	return "topdown"
}
