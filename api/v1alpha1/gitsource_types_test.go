package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStatusCountsAreWrittenWhenZero: kubectl's OBJECTS and DRIFTED
// columns read .status.objects and .status.drifted; a count left out of
// the JSON prints as <none> instead of 0.
func TestStatusCountsAreWrittenWhenZero(t *testing.T) {
	raw, err := json.Marshal(GitSourceStatus{})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"objects":0`, `"drifted":0`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("zero status %s lacks %s", raw, field)
		}
	}
	// The other fields stay optional in the JSON.
	if strings.Contains(string(raw), "lastAppliedCommit") {
		t.Errorf("zero status %s carries an empty lastAppliedCommit", raw)
	}
}
