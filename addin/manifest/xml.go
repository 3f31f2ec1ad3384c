package manifest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
)

// Text shared by both manifests.
const (
	paneButtonLabel  = "Open Sales"
	paneTipTitle     = "Open the Sales panel"
	paneTipText      = "Shows the CRM records for this email or meeting: contacts, accounts, opportunities, leads and recent activity."
	shareButtonLabel = "Share with Sales"
	shareTipTitle    = "Share with Sales"
	shareTipText     = "Shares this email or meeting with Sales without opening the panel."
	descriptionTail  = ": CRM context for your emails and meetings, with one-click sharing to Sales."

	// ShareFunctionName is the function commands.html must expose for the
	// "Share with Sales" button: as a global function for the XML manifest's
	// ExecuteFunction, and through Office.actions.associate for the JSON
	// manifest's executeFunction action of the same id.
	ShareFunctionName = "shareItem"

	// The Mailbox requirement set the ribbon commands need (add-in commands
	// arrived in Mailbox 1.3); the legacy part of the manifest asks for 1.1.
	commandsMinVersion = "1.3"
	legacyMinVersion   = "1.1"
	requestedHeight    = 450 // the largest the ItemRead form allows
)

// Namespaces of the add-in-only manifest.
const (
	nsOfficeApp = "http://schemas.microsoft.com/office/appforoffice/1.1"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsBT        = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
	nsMailOR10  = "http://schemas.microsoft.com/office/mailappversionoverrides"
	nsMailOR11  = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
)

// Resource ids (bt:ReferenceId, at most 32 characters).
const (
	residGroupLabel   = "groupLabel"
	residPaneLabel    = "paneButtonLabel"
	residPaneTitle    = "paneTipTitle"
	residPaneText     = "paneTipText"
	residShareLabel   = "shareButtonLabel"
	residShareTitle   = "shareTipTitle"
	residShareText    = "shareTipText"
	residTaskPaneURL  = "taskPaneUrl"
	residFunctionFile = "functionFileUrl"
	residIconPrefix   = "icon"
)

// ribbonTabID is the built-in tab the commands join (the only OfficeTab id
// Outlook supports).
const ribbonTabID = "TabDefault"

// Icons: iconSizes are the PNGs the server serves; ribbonIconSizes are the
// three a desktop ribbon button must list; the add-in list shows the 64 px
// icon, or the 128 px one on high-DPI screens.
var (
	iconSizes       = []int{16, 32, 64, 80, 128}
	ribbonIconSizes = []int{16, 32, 80}
)

const (
	iconSizeStandard = 64
	iconSizeHighRes  = 128
)

// mobileImage is one of the nine images a mobile button lists: a nominal
// size at a screen scale, drawn by the smallest served icon that covers
// size*scale pixels.
type mobileImage struct{ size, scale, icon int }

func mobileImages() []mobileImage {
	var out []mobileImage
	for _, size := range []int{25, 32, 48} {
		for scale := 1; scale <= 3; scale++ {
			out = append(out, mobileImage{size, scale, iconCovering(size * scale)})
		}
	}
	return out
}

// commandSurface is one place in Outlook's desktop UI where the group of two
// buttons appears: its XML extension point type (the XSDs, 1.0 and 1.1,
// define all three), the stem of its group and control ids, and the matching
// ribbon context of the unified manifest.
type commandSurface struct {
	xsiType     string
	idStem      string
	jsonContext string
}

var desktopSurfaces = []commandSurface{
	{"MessageReadCommandSurface", "msgRead", "mailRead"},
	{"AppointmentAttendeeCommandSurface", "apptAttendee", "meetingDetailsAttendee"},
	{"AppointmentOrganizerCommandSurface", "apptOrganizer", "meetingDetailsOrganizer"},
}

// XML returns the add-in-only XML manifest for in, with warnings for the
// administrator (e.g. a development-only http URL). An unusable Input gives
// a *ValidationError.
func XML(in Input) ([]byte, []string, error) {
	s, err := check(in)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := officeApp(s).write(&buf, 0); err != nil {
		return nil, nil, fmt.Errorf("manifest: encode XML: %w", err)
	}
	return buf.Bytes(), s.warnings, nil
}

func officeApp(s *spec) *node {
	return el("OfficeApp",
		"xmlns", nsOfficeApp,
		"xmlns:xsi", nsXSI,
		"xmlns:bt", nsBT,
		"xsi:type", "MailApp",
	).add(
		text("Id", s.appID),
		text("Version", s.version),
		text("ProviderName", s.provider),
		text("DefaultLocale", "en-US"),
		el("DisplayName", "DefaultValue", s.name),
		el("Description", "DefaultValue", s.name+descriptionTail),
		el("IconUrl", "DefaultValue", s.iconURL(iconSizeStandard)),
		el("HighResolutionIconUrl", "DefaultValue", s.iconURL(iconSizeHighRes)),
		el("SupportUrl", "DefaultValue", s.rootURL()),
		el("AppDomains").add(text("AppDomain", s.origin())),
		el("Hosts").add(el("Host", "Name", "Mailbox")),
		el("Requirements").add(
			el("Sets").add(el("Set", "Name", "Mailbox", "MinVersion", legacyMinVersion)),
		),
		// For clients without add-in commands: the task pane as a read form.
		el("FormSettings").add(
			el("Form", "xsi:type", "ItemRead").add(
				el("DesktopSettings").add(
					el("SourceLocation", "DefaultValue", s.url(pathTaskPane)),
					text("RequestedHeight", strconv.Itoa(requestedHeight)),
				),
			),
		),
		text("Permissions", "ReadWriteMailbox"),
		el("Rule", "xsi:type", "RuleCollection", "Mode", "Or").add(
			el("Rule", "xsi:type", "ItemIs", "ItemType", "Message", "FormType", "Read"),
			el("Rule", "xsi:type", "ItemIs", "ItemType", "Appointment", "FormType", "Read"),
		),
		text("DisableEntityHighlighting", "false"),
		versionOverrides(s, false),
	)
}

// versionOverrides builds VersionOverridesV1_0 (which nests the 1.1 one) or,
// with v11, VersionOverridesV1_1. Clients that understand 1.1 use only the
// nested element, so both carry the full command set.
func versionOverrides(s *spec, v11 bool) *node {
	ns, typ := nsMailOR10, "VersionOverridesV1_0"
	if v11 {
		ns, typ = nsMailOR11, "VersionOverridesV1_1"
	}
	desktop := el("DesktopFormFactor").add(el("FunctionFile", "resid", residFunctionFile))
	for _, cs := range desktopSurfaces {
		desktop.add(el("ExtensionPoint", "xsi:type", cs.xsiType).add(
			el("OfficeTab", "id", ribbonTabID).add(
				el("Group", "id", cs.idStem+"Group").add(
					el("Label", "resid", residGroupLabel),
					paneButton(cs.idStem+"OpenPane", v11),
					shareButton(cs.idStem+"Share"),
				),
			),
		))
	}
	host := el("Host", "xsi:type", "MailHost").add(desktop)
	if v11 {
		// Outlook on iOS and Android supports add-in commands on message
		// read only (the 1.1 schema's mobile appointment surfaces are not
		// offered to add-ins like this one; the CRM appointment surface,
		// MobileLogEventAppointmentAttendee, is newer than these XSDs).
		host.add(el("MobileFormFactor").add(
			el("FunctionFile", "resid", residFunctionFile),
			el("ExtensionPoint", "xsi:type", "MobileMessageReadCommandSurface").add(
				el("Group", "id", "mobileMsgReadGroup").add(
					el("Label", "resid", residGroupLabel),
					mobileButton("mobileMsgReadOpenPane", residPaneLabel, showTaskpane(false)),
					mobileButton("mobileMsgReadShare", residShareLabel, executeFunction()),
				),
			),
		))
	}

	vo := el("VersionOverrides", "xmlns", ns, "xsi:type", typ).add(
		el("Requirements").add(
			el("bt:Sets", "DefaultMinVersion", commandsMinVersion).add(el("bt:Set", "Name", "Mailbox")),
		),
		el("Hosts").add(host),
		resources(s),
	)
	if v11 {
		// The V1_1 schema allows WebApplicationInfo after Resources: it
		// names the Entra application for Office single sign-on.
		vo.add(el("WebApplicationInfo").add(
			text("Id", s.appID),
			text("Resource", s.resource()),
		))
	} else {
		vo.add(versionOverrides(s, true))
	}
	return vo
}

func paneButton(id string, pinnable bool) *node {
	return button(id, residPaneLabel, residPaneTitle, residPaneText, showTaskpane(pinnable))
}

func shareButton(id string) *node {
	return button(id, residShareLabel, residShareTitle, residShareText, executeFunction())
}

func button(id, label, title, desc string, action *node) *node {
	icon := el("Icon")
	for _, size := range ribbonIconSizes {
		icon.add(el("bt:Image", "size", strconv.Itoa(size), "resid", iconResid(size)))
	}
	return el("Control", "xsi:type", "Button", "id", id).add(
		el("Label", "resid", label),
		el("Supertip").add(
			el("Title", "resid", title),
			el("Description", "resid", desc),
		),
		icon,
		action,
	)
}

func mobileButton(id, label string, action *node) *node {
	icon := el("Icon", "xsi:type", "bt:MobileIconList")
	for _, m := range mobileImages() {
		icon.add(el("bt:Image", "size", strconv.Itoa(m.size), "scale", strconv.Itoa(m.scale), "resid", iconResid(m.icon)))
	}
	return el("Control", "xsi:type", "MobileButton", "id", id).add(
		el("Label", "resid", label),
		icon,
		action,
	)
}

// iconCovering returns the smallest served icon size of at least px pixels
// (or the largest one).
func iconCovering(px int) int {
	for _, size := range iconSizes {
		if size >= px {
			return size
		}
	}
	return iconSizes[len(iconSizes)-1]
}

func showTaskpane(pinnable bool) *node {
	a := el("Action", "xsi:type", "ShowTaskpane").add(el("SourceLocation", "resid", residTaskPaneURL))
	if pinnable {
		a.add(text("SupportsPinning", "true"))
	}
	return a
}

func executeFunction() *node {
	return el("Action", "xsi:type", "ExecuteFunction").add(text("FunctionName", ShareFunctionName))
}

func iconResid(size int) string { return residIconPrefix + strconv.Itoa(size) }

func resources(s *spec) *node {
	images := el("bt:Images")
	for _, size := range iconSizes {
		images.add(el("bt:Image", "id", iconResid(size), "DefaultValue", s.iconURL(size)))
	}
	return el("Resources").add(
		images,
		el("bt:Urls").add(
			el("bt:Url", "id", residFunctionFile, "DefaultValue", s.url(pathFunctionFile)),
			el("bt:Url", "id", residTaskPaneURL, "DefaultValue", s.url(pathTaskPane)),
		),
		el("bt:ShortStrings").add(
			el("bt:String", "id", residGroupLabel, "DefaultValue", s.name),
			el("bt:String", "id", residPaneLabel, "DefaultValue", paneButtonLabel),
			el("bt:String", "id", residPaneTitle, "DefaultValue", paneTipTitle),
			el("bt:String", "id", residShareLabel, "DefaultValue", shareButtonLabel),
			el("bt:String", "id", residShareTitle, "DefaultValue", shareTipTitle),
		),
		el("bt:LongStrings").add(
			el("bt:String", "id", residPaneText, "DefaultValue", paneTipText),
			el("bt:String", "id", residShareText, "DefaultValue", shareTipText),
		),
	)
}

// node is a minimal element tree. Names carry their prefix literally
// ("bt:Image", "xsi:type") because the manifest's prefixes are fixed, and
// encoding/xml's Encoder would invent its own for namespaced names (and never
// self-closes empty elements, which makes a file administrators are told to
// hand-edit harder to read). Values are escaped with xml.EscapeText, which
// also escapes quotes and line breaks, so it is safe inside attributes.
type node struct {
	name     string
	attrs    [][2]string
	text     string
	children []*node
}

// el makes an element with attributes given as name, value pairs.
func el(name string, attrs ...string) *node {
	if len(attrs)%2 != 0 {
		panic("manifest: odd attribute list for " + name)
	}
	n := &node{name: name}
	for i := 0; i < len(attrs); i += 2 {
		n.attrs = append(n.attrs, [2]string{attrs[i], attrs[i+1]})
	}
	return n
}

func text(name, value string) *node {
	n := el(name)
	n.text = value
	return n
}

func (n *node) add(children ...*node) *node {
	n.children = append(n.children, children...)
	return n
}

func (n *node) write(buf *bytes.Buffer, depth int) error {
	indent := func(d int) {
		for range d {
			buf.WriteString("  ")
		}
	}
	indent(depth)
	buf.WriteByte('<')
	buf.WriteString(n.name)
	for _, a := range n.attrs {
		buf.WriteByte(' ')
		buf.WriteString(a[0])
		buf.WriteString(`="`)
		if err := xml.EscapeText(buf, []byte(a[1])); err != nil {
			return err
		}
		buf.WriteByte('"')
	}
	switch {
	case n.text == "" && len(n.children) == 0:
		buf.WriteString(" />\n")
		return nil
	case len(n.children) == 0:
		buf.WriteByte('>')
		if err := xml.EscapeText(buf, []byte(n.text)); err != nil {
			return err
		}
	default:
		// Mixed content never occurs in a manifest.
		buf.WriteString(">\n")
		for _, c := range n.children {
			if err := c.write(buf, depth+1); err != nil {
				return err
			}
		}
		indent(depth)
	}
	buf.WriteString("</")
	buf.WriteString(n.name)
	buf.WriteString(">\n")
	return nil
}
