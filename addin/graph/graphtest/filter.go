package graphtest

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The fake understands exactly the $filter forms SalesBridge sends and
// answers 400 to anything else, so a client that starts sending a query
// Graph might not support is caught in tests:
//
//	singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')
//	categories/any(c:c eq '…')
//	<property> eq|ne|ge|gt|le|lt <'string' | datetime | number | bool>
//
// joined with "and".
type predicate func(item map[string]any) bool

var (
	reExtProp = regexp.MustCompile(`(?i)^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\w+/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+\w+/value\s+eq\s+'((?:[^']|'')*)'\s*\)$`)
	reCat     = regexp.MustCompile(`(?i)^categories/any\(\s*\w+\s*:\s*\w+\s+eq\s+'((?:[^']|'')*)'\s*\)$`)
	reCmp     = regexp.MustCompile(`^(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+)$`)
	reExpand  = regexp.MustCompile(`(?i)^singleValueExtendedProperties\(\$filter=id\s+eq\s+'((?:[^']|'')*)'\)$`)
)

func unquote(s string) string { return strings.ReplaceAll(s, "''", "'") }

// splitAnd splits on " and " outside parentheses and string literals.
func splitAnd(s string) []string {
	var out []string
	depth, inQ, last := 0, false, 0
	low := strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(low[i:], " and "):
			out = append(out, strings.TrimSpace(s[last:i]))
			last = i + len(" and ")
			i += len(" and ") - 1
		}
	}
	return append(out, strings.TrimSpace(s[last:]))
}

func parseFilter(f string) (predicate, error) {
	if strings.TrimSpace(f) == "" {
		return func(map[string]any) bool { return true }, nil
	}
	var preds []predicate
	for _, clause := range splitAnd(f) {
		p, err := parseClause(clause)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(it map[string]any) bool {
		for _, p := range preds {
			if !p(it) {
				return false
			}
		}
		return true
	}, nil
}

func parseClause(c string) (predicate, error) {
	if m := reExtProp.FindStringSubmatch(c); m != nil {
		id, val := unquote(m[2]), unquote(m[3])
		return func(it map[string]any) bool {
			props, _ := it["singleValueExtendedProperties"].([]any)
			for _, p := range props {
				pm, _ := p.(map[string]any)
				pid, _ := pm["id"].(string)
				pv, _ := pm["value"].(string)
				if strings.EqualFold(pid, id) && pv == val {
					return true
				}
			}
			return false
		}, nil
	}
	if m := reCat.FindStringSubmatch(c); m != nil {
		want := unquote(m[1])
		return func(it map[string]any) bool {
			cats, _ := it["categories"].([]any)
			for _, x := range cats {
				if s, _ := x.(string); strings.EqualFold(s, want) {
					return true
				}
			}
			return false
		}, nil
	}
	if m := reCmp.FindStringSubmatch(c); m != nil {
		field, op, lit := m[1], m[2], strings.TrimSpace(m[3])
		cmp, err := comparator(lit)
		if err != nil {
			return nil, err
		}
		return func(it map[string]any) bool {
			r, ok := cmp(it[field])
			if !ok {
				return op == "ne"
			}
			switch op {
			case "eq":
				return r == 0
			case "ne":
				return r != 0
			case "ge":
				return r >= 0
			case "gt":
				return r > 0
			case "le":
				return r <= 0
			default:
				return r < 0
			}
		}, nil
	}
	return nil, errors.New("unsupported $filter clause: " + c)
}

// comparator returns a function comparing an item value with the literal.
func comparator(lit string) (func(v any) (int, bool), error) {
	if strings.HasPrefix(lit, "'") && strings.HasSuffix(lit, "'") && len(lit) >= 2 {
		want := unquote(lit[1 : len(lit)-1])
		return func(v any) (int, bool) {
			s, ok := v.(string)
			if !ok {
				return 0, false
			}
			return strings.Compare(s, want), true
		}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, lit); err == nil {
		return func(v any) (int, bool) {
			s, _ := v.(string)
			vt, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return 0, false
			}
			return vt.Compare(t), true
		}, nil
	}
	if lit == "true" || lit == "false" {
		want := lit == "true"
		return func(v any) (int, bool) {
			b, ok := v.(bool)
			if !ok {
				return 0, false
			}
			if b == want {
				return 0, true
			}
			return 1, true
		}, nil
	}
	if lit == "null" {
		return func(v any) (int, bool) {
			if v == nil {
				return 0, true
			}
			return 1, true
		}, nil
	}
	if n, err := strconv.ParseFloat(lit, 64); err == nil {
		return func(v any) (int, bool) {
			f, ok := v.(float64)
			if !ok {
				return 0, false
			}
			switch {
			case f < n:
				return -1, true
			case f > n:
				return 1, true
			}
			return 0, true
		}, nil
	}
	return nil, errors.New("unsupported $filter literal: " + lit)
}

// parseExpand accepts singleValueExtendedProperties($filter=id eq '…').
func parseExpand(e string) (func(id string) bool, error) {
	if strings.TrimSpace(e) == "" {
		return nil, nil
	}
	m := reExpand.FindStringSubmatch(strings.TrimSpace(e))
	if m == nil {
		return nil, errors.New("unsupported $expand: " + e)
	}
	want := unquote(m[1])
	return func(id string) bool { return strings.EqualFold(id, want) }, nil
}
