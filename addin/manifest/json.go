package manifest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The unified manifest version generated: 1.17 is the first whose schema
// has the "extensions" property for Outlook add-ins outside preview.
const (
	jsonManifestVersion = "1.17"
	jsonSchemaURL       = "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"

	// AccentColor is the brand colour, also the icons' background.
	AccentColor = "#0F6CBD"

	// IconColorFile and IconOutlineFile are the icons the JSON manifest
	// references by path relative to the app package (the zip holding
	// manifest.json): a 192×192 colour icon and a 32×32 white-on-transparent
	// outline. internal/icongen writes both into assets/web/icons.
	IconColorFile   = "color.png"
	IconOutlineFile = "outline.png"

	runtimeTaskPane  = "TaskPaneRuntime"
	runtimeCommands  = "CommandsRuntime"
	actionOpenPane   = "openSalesPane"
	descriptionShort = "CRM context and one-click sharing for emails and meetings."
)

// Limits of the v1.17 schema that a registration name can exceed.
const (
	maxNameShort     = 30
	maxNameFull      = 100
	maxDeveloperName = 32
	maxRibbonLabel   = 64
	maxMobileLabel   = 32
)

// JSON returns the unified app manifest for Microsoft 365 (manifest version
// 1.17) describing the same Outlook add-in as XML: the task pane and the
// shareItem function, on message read and both appointment surfaces on the
// desktop and on message read on mobile. Values the schema limits more
// tightly than the XML manifest (the short name, developer name and ribbon
// labels) are shortened, with a warning.
func JSON(in Input) ([]byte, []string, error) {
	s, err := check(in)
	if err != nil {
		return nil, nil, err
	}
	m := jsonManifest(s)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: encode JSON: %w", err)
	}
	return append(b, '\n'), s.warnings, nil
}

func jsonManifest(s *spec) *appManifest {
	short := s.fit(s.name, maxNameShort, "name.short")
	full := s.fit(s.name, maxNameFull, "name.full")
	groupLabel := s.fit(s.name, maxRibbonLabel, "the ribbon group label")
	mobileLabel := s.fit(s.name, maxMobileLabel, "the mobile group label")

	mailbox13 := &requirements{Capabilities: []capability{{Name: "Mailbox", MinVersion: commandsMinVersion}}}
	icons := make([]icon, 0, len(ribbonIconSizes))
	for _, size := range ribbonIconSizes {
		icons = append(icons, icon{Size: size, URL: s.iconURL(size)})
	}
	var mobileIcons []mobileIcon
	for _, m := range mobileImages() {
		mobileIcons = append(mobileIcons, mobileIcon{Size: m.size, Scale: m.scale, URL: s.iconURL(m.icon)})
	}
	contexts := make([]string, 0, len(desktopSurfaces))
	for _, cs := range desktopSurfaces {
		contexts = append(contexts, cs.jsonContext)
	}

	return &appManifest{
		Schema:          jsonSchemaURL,
		ManifestVersion: jsonManifestVersion,
		Version:         s.semver(),
		ID:              s.appID,
		Developer: developer{
			Name:          s.fit(s.provider, maxDeveloperName, "developer.name"),
			WebsiteURL:    s.rootURL(),
			PrivacyURL:    s.rootURL(),
			TermsOfUseURL: s.rootURL(),
		},
		Name:        localized{Short: short, Full: full},
		Description: localized{Short: descriptionShort, Full: s.name + descriptionTail},
		Icons:       iconPaths{Outline: IconOutlineFile, Color: IconColorFile},
		AccentColor: AccentColor,
		ValidDomains: []string{
			s.host(),
		},
		WebApplicationInfo: &webApplicationInfo{ID: s.appID, Resource: s.resource()},
		Authorization: &authorization{Permissions: permissions{ResourceSpecific: []rsc{
			// The unified-manifest name of the XML manifest's ReadWriteMailbox.
			{Name: "Mailbox.ReadWrite.User", Type: "Delegated"},
		}}},
		Extensions: []extension{{
			Requirements: &requirements{
				Scopes:       []string{"mail"},
				Capabilities: mailbox13.Capabilities,
			},
			Runtimes: []runtime{
				{
					Requirements: mailbox13,
					ID:           runtimeTaskPane,
					Type:         "general",
					Code:         code{Page: s.url(pathTaskPane)},
					Lifetime:     "short",
					Actions:      []action{{ID: actionOpenPane, Type: "openPage", Pinnable: new(true)}},
				},
				{
					Requirements: mailbox13,
					ID:           runtimeCommands,
					Type:         "general",
					Code:         code{Page: s.url(pathFunctionFile)},
					Lifetime:     "short",
					Actions:      []action{{ID: ShareFunctionName, Type: "executeFunction", DisplayName: ShareFunctionName}},
				},
			},
			Ribbons: []ribbon{
				{
					Requirements: &requirements{FormFactors: []string{"desktop"}},
					Contexts:     contexts,
					Tabs: []tab{{
						BuiltInTabID: ribbonTabID,
						Groups: []group{{
							ID:    "salesGroup",
							Label: groupLabel,
							Icons: icons,
							Controls: []control{
								{ID: "openPaneButton", Type: "button", Label: paneButtonLabel, Icons: icons,
									Supertip: supertip{Title: paneTipTitle, Description: paneTipText}, ActionID: actionOpenPane},
								{ID: "shareButton", Type: "button", Label: shareButtonLabel, Icons: icons,
									Supertip: supertip{Title: shareTipTitle, Description: shareTipText}, ActionID: ShareFunctionName},
							},
						}},
					}},
				},
				{
					// Outlook on mobile shows add-in commands on message read only.
					Requirements: &requirements{FormFactors: []string{"mobile"}},
					Contexts:     []string{"mailRead"},
					Tabs: []tab{{
						BuiltInTabID: ribbonTabID,
						CustomMobileRibbonGroups: []mobileGroup{{
							ID:    "mobileSalesGroup",
							Label: mobileLabel,
							Controls: []mobileControl{
								{ID: "mobileOpenPaneButton", Type: "mobileButton", Label: paneButtonLabel, Icons: mobileIcons, ActionID: actionOpenPane},
								{ID: "mobileShareButton", Type: "mobileButton", Label: shareButtonLabel, Icons: mobileIcons, ActionID: ShareFunctionName},
							},
						}},
					}},
				},
			},
		}},
	}
}

// fit shortens v to n characters for the named JSON property, with a warning.
func (s *spec) fit(v string, n int, what string) string {
	out, cut := truncate(v, n)
	if cut {
		s.warnf("JSON manifest: %s is limited to %d characters and was shortened to %q", what, n, out)
	}
	return out
}

// semver turns the XML manifest's 1-4 part version into the
// MAJOR.MINOR.PATCH form the unified manifest uses. A non-zero fourth part
// cannot be carried and is dropped with a warning.
func (s *spec) semver() string {
	parts := strings.Split(s.version, ".")
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	nums := make([]string, 3)
	for i := range nums {
		n, _ := strconv.Atoi(parts[i]) // the version pattern guarantees digits
		nums[i] = strconv.Itoa(n)      // semver forbids leading zeros
	}
	if len(parts) == 4 {
		if n, _ := strconv.Atoi(parts[3]); n != 0 {
			s.warnf("JSON manifest: version %s has a fourth part the unified manifest cannot express; it is published as %s",
				s.version, strings.Join(nums, "."))
		}
	}
	return strings.Join(nums, ".")
}

// Types of the v1.17 unified manifest, limited to what is generated.
type (
	appManifest struct {
		Schema             string              `json:"$schema"`
		ManifestVersion    string              `json:"manifestVersion"`
		Version            string              `json:"version"`
		ID                 string              `json:"id"`
		Developer          developer           `json:"developer"`
		Name               localized           `json:"name"`
		Description        localized           `json:"description"`
		Icons              iconPaths           `json:"icons"`
		AccentColor        string              `json:"accentColor"`
		ValidDomains       []string            `json:"validDomains,omitempty"`
		WebApplicationInfo *webApplicationInfo `json:"webApplicationInfo,omitempty"`
		Authorization      *authorization      `json:"authorization,omitempty"`
		Extensions         []extension         `json:"extensions"`
	}
	developer struct {
		Name          string `json:"name"`
		WebsiteURL    string `json:"websiteUrl"`
		PrivacyURL    string `json:"privacyUrl"`
		TermsOfUseURL string `json:"termsOfUseUrl"`
	}
	localized struct {
		Short string `json:"short"`
		Full  string `json:"full"`
	}
	iconPaths struct {
		Outline string `json:"outline"`
		Color   string `json:"color"`
	}
	webApplicationInfo struct {
		ID       string `json:"id"`
		Resource string `json:"resource,omitempty"`
	}
	authorization struct {
		Permissions permissions `json:"permissions"`
	}
	permissions struct {
		ResourceSpecific []rsc `json:"resourceSpecific"`
	}
	rsc struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	extension struct {
		Requirements *requirements `json:"requirements,omitempty"`
		Runtimes     []runtime     `json:"runtimes"`
		Ribbons      []ribbon      `json:"ribbons"`
	}
	requirements struct {
		Capabilities []capability `json:"capabilities,omitempty"`
		Scopes       []string     `json:"scopes,omitempty"`
		FormFactors  []string     `json:"formFactors,omitempty"`
	}
	capability struct {
		Name       string `json:"name"`
		MinVersion string `json:"minVersion,omitempty"`
	}
	runtime struct {
		Requirements *requirements `json:"requirements,omitempty"`
		ID           string        `json:"id"`
		Type         string        `json:"type"`
		Code         code          `json:"code"`
		Lifetime     string        `json:"lifetime"`
		Actions      []action      `json:"actions"`
	}
	code struct {
		Page string `json:"page"`
	}
	action struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		DisplayName string `json:"displayName,omitempty"`
		Pinnable    *bool  `json:"pinnable,omitempty"`
	}
	ribbon struct {
		Requirements *requirements `json:"requirements,omitempty"`
		Contexts     []string      `json:"contexts"`
		Tabs         []tab         `json:"tabs"`
	}
	tab struct {
		BuiltInTabID             string        `json:"builtInTabId"`
		Groups                   []group       `json:"groups,omitempty"`
		CustomMobileRibbonGroups []mobileGroup `json:"customMobileRibbonGroups,omitempty"`
	}
	group struct {
		ID       string    `json:"id"`
		Label    string    `json:"label"`
		Icons    []icon    `json:"icons,omitempty"`
		Controls []control `json:"controls"`
	}
	control struct {
		ID       string   `json:"id"`
		Type     string   `json:"type"`
		Label    string   `json:"label"`
		Icons    []icon   `json:"icons"`
		Supertip supertip `json:"supertip"`
		ActionID string   `json:"actionId"`
	}
	supertip struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	icon struct {
		Size int    `json:"size"`
		URL  string `json:"url"`
	}
	mobileGroup struct {
		ID       string          `json:"id"`
		Label    string          `json:"label"`
		Controls []mobileControl `json:"controls"`
	}
	mobileControl struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Label    string       `json:"label"`
		Icons    []mobileIcon `json:"icons"`
		ActionID string       `json:"actionId"`
	}
	mobileIcon struct {
		Size  int    `json:"size"`
		Scale int    `json:"scale"`
		URL   string `json:"url"`
	}
)
