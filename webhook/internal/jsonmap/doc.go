// Package jsonmap decodes JSON into Go's generic values (map[string]any,
// []any, string, int64, float64, bool and nil) with exactly the result of
// sigs.k8s.io/json's UnmarshalCaseSensitivePreserveInts into an `any`,
// which is how the API server reads objects, but in one pass and with a
// fraction of the allocations.
//
// The admission webhook decodes two objects of up to a few tens of KB on
// every request; with the general decoder that was most of its own CPU
// time (a validating scan, then a reflective decode, a string and a
// growing map or slice per value). This decoder validates while it
// decodes, returns strings without escapes as substrings of one copy of
// the input, and sizes every map and slice once.
//
// The semantics it keeps, which a differential fuzz test against
// sigs.k8s.io/json checks:
//   - integers that fit int64 become int64; any other number becomes the
//     float64 of strconv.ParseFloat, and a number out of float64's range is
//     an error;
//   - of duplicate keys the last wins;
//   - invalid UTF-8 in a string becomes U+FFFD byte by byte, and a lone or
//     broken surrogate escape becomes U+FFFD, as encoding/json does;
//   - invalid JSON, trailing data, and nesting deeper than 10,000 levels
//     (encoding/json's limit, which keeps hostile input from exhausting
//     the stack) are errors.
//
// Decoded strings share memory with one copy of the input, so a value kept
// from a large document keeps the whole document's text alive: fine for
// the life of a request, worth a copy (strings.Clone) beyond it.
package jsonmap
