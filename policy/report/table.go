package report

import (
	"io"
	"strings"

	"github.com/mattn/go-runewidth"

	"gitgate.dev/gitgate/policy"
)

// writeTable draws conftest's table: one row per success, exception,
// warning and failure, with Unicode box lines, a centered upper-case header
// and left-aligned cells that are trimmed and split at newlines but never
// wrapped, as conftest's table library draws them by default.
func writeTable(w io.Writer, results policy.CheckResults) error {
	var rows [][4]string
	for i := range results {
		r := &results[i]
		for range r.Successes {
			rows = append(rows, [4]string{"success", r.FileName, r.Namespace, "SUCCESS"})
		}
		for _, m := range r.Exceptions {
			rows = append(rows, [4]string{"exception", r.FileName, r.Namespace, m.Msg})
		}
		for _, m := range r.Warnings {
			rows = append(rows, [4]string{"warning", r.FileName, r.Namespace, m.Msg})
		}
		for _, m := range r.Failures {
			rows = append(rows, [4]string{"failure", r.FileName, r.Namespace, m.Msg})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	header := [4]string{"RESULT", "FILE", "NAMESPACE", "MESSAGE"}
	// Each cell becomes its trimmed lines; a column is as wide as its
	// widest line.
	cells := make([][4][]string, len(rows))
	var widths [4]int
	for c, h := range header {
		widths[c] = runewidth.StringWidth(h)
	}
	for i, row := range rows {
		for c, text := range row {
			lines := strings.Split(text, "\n")
			for k := range lines {
				lines[k] = strings.TrimSpace(lines[k])
				widths[c] = max(widths[c], runewidth.StringWidth(lines[k]))
			}
			cells[i][c] = lines
		}
	}
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for c, wd := range widths {
			if c > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right)
		b.WriteByte('\n')
	}
	rule("┌", "┬", "┐")
	b.WriteString("│")
	for c, h := range header {
		pad := widths[c] - runewidth.StringWidth(h)
		b.WriteString(" " + strings.Repeat(" ", pad/2) + h + strings.Repeat(" ", pad-pad/2) + " │")
	}
	b.WriteByte('\n')
	rule("├", "┼", "┤")
	for _, row := range cells {
		height := 0
		for _, lines := range row {
			height = max(height, len(lines))
		}
		for k := range height {
			b.WriteString("│")
			for c, lines := range row {
				line := ""
				if k < len(lines) {
					line = lines[k]
				}
				b.WriteString(" " + line + strings.Repeat(" ", widths[c]-runewidth.StringWidth(line)) + " │")
			}
			b.WriteByte('\n')
		}
	}
	rule("└", "┴", "┘")
	_, err := io.WriteString(w, b.String())
	return err
}
