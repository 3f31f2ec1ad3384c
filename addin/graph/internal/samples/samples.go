// Package samples finds the shared Microsoft Graph wire samples for tests.
// The folder lives outside the module (../shared/conformance next to the
// repository), so a fresh clone in CI and a worktree elsewhere both need the
// same upward search; a missing folder must fail CI rather than silently
// skip the conformance checks.
package samples

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the graph-samples folder, skipping the test locally and
// failing it when CI=true if the folder cannot be found.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d, ok := find(); ok {
		return d
	}
	msg := "shared/conformance/graph-samples not found above the package directory or beside the repository root"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// RepoRoot returns the directory holding go.mod, for tests that read project
// files such as SQL migrations.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatal("go.mod not found above " + wd)
		}
	}
}

func find() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, c := range []string{
			filepath.Join(d, "shared", "conformance", "graph-samples"),
			filepath.Join(d, "..", "shared", "conformance", "graph-samples"),
		} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return filepath.Clean(c), true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}
