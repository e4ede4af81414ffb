package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	yamlv2 "go.yaml.in/yaml/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// MaxInputSize caps one input file. Kubernetes itself refuses objects over
// about 1.5 MiB (etcd's request limit), so 32 MiB leaves room for large
// multi-document files and generated JSON while keeping a hostile file from
// exhausting memory: decoded YAML takes several times its size.
const MaxInputSize = 32 << 20

// maxAliasNodes caps how many nodes a YAML file may reach through aliases.
// Real manifests use a handful of anchors; a "billion laughs" file reaches
// billions. The YAML decoder has its own ratio check, but at 32 MiB it would
// still allow hundreds of megabytes of expansion.
const maxAliasNodes = 100_000

// Format is an input file's syntax.
type Format int

// The input formats gitgate check reads.
const (
	FormatYAML Format = iota
	FormatJSON
)

// FormatOf returns the format for a file name by its extension (.yaml, .yml,
// .json, case-insensitive), and false for any other file. Standard input
// ("-") is YAML, which also reads JSON, as in conftest.
func FormatOf(name string) (Format, bool) {
	if name == "-" {
		return FormatYAML, true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return FormatYAML, true
	case ".json":
		return FormatJSON, true
	}
	return 0, false
}

// Input is one input file, parsed: its name as given and its documents. A
// multi-document YAML file, or a file whose top level is a list, holds several
// documents; each is evaluated on its own and the results are reported under
// the file's name, as conftest does.
type Input struct {
	Name      string
	Documents []ast.Value
}

// InputError is an input that could not be read or parsed. Its message names
// the file.
type InputError struct {
	File string
	Err  error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %s: %v", e.File, e.Err) }

func (e *InputError) Unwrap() error { return e.Err }

// ErrInputTooLarge is returned for inputs over MaxInputSize.
var ErrInputTooLarge = fmt.Errorf("input larger than %d bytes", MaxInputSize)

// ErrBinaryInput is returned for inputs with NUL bytes or invalid UTF-8.
var ErrBinaryInput = errors.New("binary file: contains NUL bytes or invalid UTF-8")

// ReadInput reads and parses one input from r, refusing more than
// MaxInputSize bytes. The format follows the name (see FormatOf).
func ReadInput(name string, r io.Reader) (Input, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return Input{}, &InputError{File: name, Err: err}
	}
	return ParseInput(name, data)
}

// ParseInput parses one input file's bytes, choosing the format by name.
func ParseInput(name string, data []byte) (Input, error) {
	format, ok := FormatOf(name)
	if !ok {
		return Input{}, &InputError{File: name, Err: errors.New("unsupported file type: want .yaml, .yml or .json")}
	}
	return ParseInputAs(name, data, format)
}

// ParseInputAs parses one input file's bytes in the given format.
func ParseInputAs(name string, data []byte, format Format) (Input, error) {
	docs, err := parseDocuments(data, format)
	if err != nil {
		return Input{}, &InputError{File: name, Err: err}
	}
	return Input{Name: name, Documents: docs}, nil
}

func parseDocuments(data []byte, format Format) ([]ast.Value, error) {
	if len(data) > MaxInputSize {
		return nil, ErrInputTooLarge
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, ErrBinaryInput
	}
	if format == FormatYAML {
		if docs, multi, ok := fastYAML(data); ok {
			return splitList(docs, multi), nil
		}
	}
	var (
		raw   []any
		multi bool
		err   error
	)
	if format == FormatJSON {
		raw, err = decodeJSON(data)
	} else {
		raw, multi, err = decodeYAML(data)
	}
	if err != nil {
		return nil, err
	}
	docs := make([]ast.Value, len(raw))
	for i, x := range raw {
		v, err := toValue(x)
		if err != nil {
			return nil, err
		}
		docs[i] = v
	}
	return splitList(docs, multi), nil
}

// splitList applies conftest's reading of documents: each element of a
// top-level list is evaluated on its own, as is each document of a
// multi-document file; a list inside a multi-document file stays one
// document.
func splitList(docs []ast.Value, multi bool) []ast.Value {
	if multi || len(docs) != 1 {
		return docs
	}
	list, ok := docs[0].(*ast.Array)
	if !ok {
		return docs
	}
	out := make([]ast.Value, list.Len())
	for i := range out {
		out[i] = list.Elem(i).Value
	}
	return out
}

func decodeJSON(data []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return []any{x}, nil
}

// decodeYAML decodes every document of a YAML stream with the YAML 1.1
// resolver that Kubernetes and conftest use (sigs.k8s.io/yaml on yaml.v2), so
// that `yes`, `on` and friends mean what they mean to kubectl.
//
// conftest splits files on the literal text "\n---\n" and decodes only the
// first document of each piece; gitgate reads the stream properly instead, so
// a document after `--- # comment` is checked rather than silently dropped.
func decodeYAML(data []byte) (docs []any, multi bool, err error) {
	if err := checkAliases(data); err != nil {
		return nil, false, err
	}
	dec := yamlv2.NewDecoder(bytes.NewReader(data))
	for {
		var x any
		err := decodeOne(dec, &x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("invalid YAML: %w", err)
		}
		docs = append(docs, x)
	}
	if len(docs) == 0 {
		// An empty file (or one of comments only) is one null document, as
		// in conftest: the policies still run and count their successes.
		return []any{nil}, false, nil
	}
	return docs, len(docs) > 1, nil
}

// decodeOne turns a panic inside the YAML decoder into an error: the decoder
// is third-party code fed untrusted bytes.
func decodeOne(dec *yamlv2.Decoder, x *any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml decoder panic: %v", r)
		}
	}()
	return dec.Decode(x)
}

// checkAliases refuses YAML whose aliases expand to more than maxAliasNodes
// nodes. It parses to a node tree, which keeps aliases as references, and
// counts what the expansion would create, without expanding anything. Files
// without both '&' and '*' cannot alias and skip the extra parse.
func checkAliases(data []byte) error {
	if bytes.IndexByte(data, '&') < 0 || bytes.IndexByte(data, '*') < 0 {
		return nil
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var n yamlv3.Node
		if err := dec.Decode(&n); err != nil {
			// Syntax errors are reported by the real decoder, with its
			// messages; this pass only counts.
			return nil //nolint:nilerr // the yaml.v2 decode that follows reports it
		}
		memo := map[*yamlv3.Node]int{}
		if expanded := aliasExpansion(&n, memo, false, 0); expanded > maxAliasNodes {
			return fmt.Errorf("invalid YAML: aliases expand to more than %d nodes", maxAliasNodes)
		}
	}
}

// aliasExpansion returns how many nodes decoding n creates through aliases
// (or in total when viaAlias). memo caches the full size of anchored nodes.
func aliasExpansion(n *yamlv3.Node, memo map[*yamlv3.Node]int, viaAlias bool, depth int) int {
	if n == nil || depth > 10_000 {
		return 0
	}
	if n.Kind == yamlv3.AliasNode {
		return size(n.Alias, memo, depth+1)
	}
	total := 0
	if viaAlias {
		total = 1
	}
	for _, c := range n.Content {
		total += aliasExpansion(c, memo, viaAlias, depth+1)
		if total > maxAliasNodes {
			return total
		}
	}
	return total
}

// size is the number of nodes decoding n creates, aliases expanded.
func size(n *yamlv3.Node, memo map[*yamlv3.Node]int, depth int) int {
	if n == nil || depth > 10_000 {
		return 0
	}
	if s, ok := memo[n]; ok {
		return s
	}
	memo[n] = maxAliasNodes + 1 // a cycle counts as too large
	var s int
	if n.Kind == yamlv3.AliasNode {
		s = size(n.Alias, memo, depth+1)
	} else {
		s = 1
		for _, c := range n.Content {
			s += size(c, memo, depth+1)
			if s > maxAliasNodes {
				break
			}
		}
	}
	memo[n] = s
	return s
}

// toValue converts a decoded YAML or JSON value into a Rego value.
//
// Numbers become float64 first, because conftest reads every input through
// encoding/json into interface{}: 1000000 is 1e+06 to its policies and to
// sprintf, and integers beyond 2^53 lose precision. gitgate reproduces that so
// messages match conftest byte for byte.
func toValue(x any) (ast.Value, error) {
	switch v := x.(type) {
	case nil:
		return ast.NullValue, nil
	case bool:
		return ast.Boolean(v), nil
	case string:
		return ast.String(v), nil
	case int:
		return floatNumber(float64(v))
	case int64:
		return floatNumber(float64(v))
	case uint64:
		return floatNumber(float64(v))
	case float64:
		return floatNumber(v)
	case []any:
		terms := make([]*ast.Term, len(v))
		for i, e := range v {
			ev, err := toValue(e)
			if err != nil {
				return nil, err
			}
			terms[i] = ast.NewTerm(ev)
		}
		return ast.NewArray(terms...), nil
	case map[string]any:
		obj := ast.NewObjectWithCapacity(len(v))
		for k, e := range v {
			ev, err := toValue(e)
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.StringTerm(k), ast.NewTerm(ev))
		}
		return obj, nil
	case map[any]any:
		obj := ast.NewObjectWithCapacity(len(v))
		for k, e := range v {
			ks, err := keyString(k)
			if err != nil {
				return nil, err
			}
			ev, err := toValue(e)
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.StringTerm(ks), ast.NewTerm(ev))
		}
		return obj, nil
	default:
		return nil, fmt.Errorf("unsupported value of type %T", x)
	}
}

func floatNumber(f float64) (ast.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("unsupported number %v: JSON has no NaN or infinity", f)
	}
	return ast.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// keyString renders a non-string YAML map key the way sigs.k8s.io/yaml does
// when it converts YAML to JSON (and so the way conftest and kubectl see it).
func keyString(k any) (string, error) {
	switch v := k.(type) {
	case string:
		return v, nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		switch s := strconv.FormatFloat(v, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(v), nil
	default:
		return "", fmt.Errorf("unsupported map key of type %T", k)
	}
}
