package e2e_test

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/salesbridge/salesbridge/assets"
)

// firstRenderBudget is the most the task pane may weigh, gzipped, for its
// first render (HTML + CSS + JS, excluding office.js).
const firstRenderBudget = 60 << 10

const webPrefix = "/crmUI/osc365/web/"

var (
	htmlRef   = regexp.MustCompile(`(?:src|href)="([^"]+\.(?:js|css))"`)
	importRef = regexp.MustCompile(`(?m)(?:^import\s[^'"]*|^export\s[^'"]*\sfrom\s|import\()\s*['"](\.[^'"]+)['"]`)
)

// firstRender lists the files the page loads for its first render: the
// HTML, its local scripts and styles, and the modules they import.
func firstRender(t *testing.T, page string) []string {
	t.Helper()
	web, _ := fs.Sub(assets.FS, "web")
	seen := map[string]bool{page: true}
	queue := []string{page}
	for i := 0; i < len(queue); i++ {
		name := queue[i]
		b, err := fs.ReadFile(web, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var refs []string
		if path.Ext(name) == ".html" {
			for _, m := range htmlRef.FindAllStringSubmatch(string(b), -1) {
				switch ref := m[1]; {
				case strings.HasPrefix(ref, webPrefix):
					refs = append(refs, strings.TrimPrefix(ref, webPrefix))
				case !strings.Contains(ref, ":") && !strings.HasPrefix(ref, "/"):
					refs = append(refs, path.Join(path.Dir(name), ref))
				}
			}
		} else if path.Ext(name) == ".js" {
			for _, m := range importRef.FindAllStringSubmatch(string(b), -1) {
				refs = append(refs, path.Join(path.Dir(name), m[1]))
			}
		}
		for _, r := range refs {
			if !seen[r] {
				seen[r] = true
				queue = append(queue, r)
			}
		}
	}
	return queue
}

func TestTaskPaneWeight(t *testing.T) {
	web, _ := fs.Sub(assets.FS, "web")
	for _, page := range []string{"index.html", "commands.html", "close.html", "signin.html"} {
		files := firstRender(t, page)
		raw, sum := 0, 0
		for _, f := range files {
			b, _ := fs.ReadFile(web, f)
			// each file is served, and compressed, on its own
			var one bytes.Buffer
			w, _ := gzip.NewWriterLevel(&one, gzip.DefaultCompression)
			_, _ = w.Write(b)
			_ = w.Close()
			raw += len(b)
			sum += one.Len()
			t.Logf("%s: %-16s %6d B, %6d B gzipped", page, f, len(b), one.Len())
		}
		t.Logf("%s first render: %d files, %d B raw, %d B gzipped (budget %d B), excluding office.js", page, len(files), raw, sum, firstRenderBudget)
		if page == "index.html" && len(files) < 4 {
			t.Errorf("index.html loads only %v: the module graph was not followed", files)
		}
		if sum > firstRenderBudget {
			t.Errorf("%s weighs %d B gzipped for its first render, over the %d B budget", page, sum, firstRenderBudget)
		}
	}
}
