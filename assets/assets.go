// Package assets embeds the add-in's pages: the task pane, the OAuth reply
// page, the ribbon's function file, the sign-in step, the admin pages, their
// scripts, styles and icons.
package assets

import "embed"

// FS holds web/ (served under /crmUI/osc365/web/) and admin/ (under /admin/).
//
//go:embed web admin
var FS embed.FS
