package share

import (
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
	stripAll   *bluemonday.Policy
)

func policies() (*bluemonday.Policy, *bluemonday.Policy) {
	policyOnce.Do(func() {
		// UGC keeps formatting, tables, links and images but drops
		// scripts, styles, event handlers, javascript: URLs and forms.
		policy = bluemonday.UGCPolicy()
		policy.AllowAttrs("style").Globally()
		policy.AllowStyles("color", "background-color", "font-weight", "font-style", "text-decoration",
			"text-align", "font-size", "font-family", "margin", "padding", "border").Globally()
		policy.AllowAttrs("width", "height", "align", "valign", "bgcolor", "border", "cellpadding", "cellspacing").OnElements("table", "td", "th", "tr", "img")
		policy.RequireNoReferrerOnLinks(true)
		policy.AddTargetBlankToFullyQualifiedLinks(true)
		stripAll = bluemonday.StrictPolicy()
	})
	return policy, stripAll
}

// SanitizeHTML makes an email body safe to show in the CRM.
func SanitizeHTML(s string) string {
	p, _ := policies()
	return strings.TrimSpace(p.Sanitize(s))
}

var (
	reBlockEnd = regexp.MustCompile(`(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table)\s*>`)
	reBlockBeg = regexp.MustCompile(`(?i)<\s*(p|div|li|tr|h[1-6]|blockquote|table)\b`)
	reDropped  = regexp.MustCompile(`(?is)<\s*(script|style|head|title)\b.*?<\s*/\s*(script|style|head|title)\s*>`)
	reSpaces   = regexp.MustCompile(`[ \t\x{00A0}]+`)
	reLines    = regexp.MustCompile(`\n{3,}`)
)

// PlainText derives readable text from an HTML body: block ends become line
// breaks, tags go, entities are decoded and blank runs collapse.
func PlainText(h string) string {
	_, strict := policies()
	s := reDropped.ReplaceAllString(h, "")
	s = reBlockEnd.ReplaceAllString(s, "$0\n")
	s = reBlockBeg.ReplaceAllString(s, "\n$0")
	s = strict.Sanitize(s)
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(reSpaces.ReplaceAllString(l, " "))
	}
	s = strings.Join(lines, "\n")
	return strings.TrimSpace(reLines.ReplaceAllString(s, "\n\n"))
}

// Body returns the sanitised HTML and the plain text to store. A text-only
// email keeps its text and gets no HTML.
func Body(bodyHTML, bodyText string) (string, string) {
	if strings.TrimSpace(bodyHTML) == "" {
		return "", strings.TrimSpace(bodyText)
	}
	clean := SanitizeHTML(bodyHTML)
	text := strings.TrimSpace(bodyText)
	if text == "" {
		text = PlainText(clean)
	}
	return clean, text
}
