package manifest_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/salesbridge/salesbridge/addin/manifest"
	"github.com/salesbridge/salesbridge/addin/manifest/manifesttest"
)

// jsonDoc is the part of the unified manifest the tests look into.
type jsonDoc struct {
	Version     string `json:"version"`
	ID          string `json:"id"`
	Developer   struct{ Name string }
	Name        struct{ Short, Full string }
	Description struct{ Short, Full string }
	Icons       struct{ Outline, Color string }
	AccentColor string `json:"accentColor"`

	ValidDomains       []string `json:"validDomains"`
	WebApplicationInfo struct {
		ID       string `json:"id"`
		Resource string `json:"resource"`
	} `json:"webApplicationInfo"`
	Authorization struct {
		Permissions struct {
			ResourceSpecific []struct{ Name, Type string } `json:"resourceSpecific"`
		}
	}
	Extensions []struct {
		Runtimes []struct {
			ID      string
			Code    struct{ Page string }
			Actions []struct {
				ID       string
				Type     string
				Pinnable bool
			}
		}
		Ribbons []struct {
			Requirements struct {
				FormFactors []string `json:"formFactors"`
			}
			Contexts []string
			Tabs     []struct {
				BuiltInTabID string `json:"builtInTabId"`
				Groups       []struct {
					Label    string
					Controls []struct{ Label, ActionID string }
				}
				CustomMobileRibbonGroups []struct {
					Label    string
					Controls []struct{ Label, ActionID string }
				} `json:"customMobileRibbonGroups"`
			}
		}
	}
}

func TestJSONValidatesAndCarriesTheInput(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			out, warnings, err := manifest.JSON(tc.in)
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			manifesttest.ValidateJSON(t, out)
			manifesttest.CheckJSONURLs(t, out, tc.wantBase)
			checkWarnings(t, warnings, tc.jsonWarn)

			var m jsonDoc
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			id := strings.TrimSpace(tc.in.ApplicationID)
			if m.ID != id || m.WebApplicationInfo.ID != id {
				t.Errorf("ids %q / %q, want %q", m.ID, m.WebApplicationInfo.ID, id)
			}
			if want := "api://" + tc.wantHost + "/" + id; m.WebApplicationInfo.Resource != want {
				t.Errorf("resource %q, want %q", m.WebApplicationInfo.Resource, want)
			}
			if m.Version != tc.wantSemver {
				t.Errorf("version %q, want %q", m.Version, tc.wantSemver)
			}
			if !slices.Equal(m.ValidDomains, []string{tc.wantHost}) {
				t.Errorf("validDomains %q, want [%q]", m.ValidDomains, tc.wantHost)
			}
			if !strings.HasPrefix(tc.wantLabel, m.Name.Short) || !strings.HasPrefix(tc.wantLabel, m.Name.Full) ||
				utf8.RuneCountInString(m.Name.Short) > 30 || utf8.RuneCountInString(m.Name.Full) > 100 {
				t.Errorf("name %+v does not fit %q", m.Name, tc.wantLabel)
			}
			if !strings.HasPrefix(tc.wantProv, m.Developer.Name) {
				t.Errorf("developer %q, want a prefix of %q", m.Developer.Name, tc.wantProv)
			}
			if m.Icons.Color != manifest.IconColorFile || m.Icons.Outline != manifest.IconOutlineFile || m.AccentColor != manifest.AccentColor {
				t.Errorf("icons %+v, accent %q", m.Icons, m.AccentColor)
			}
			rsc := m.Authorization.Permissions.ResourceSpecific
			if len(rsc) != 1 || rsc[0].Name != "Mailbox.ReadWrite.User" || rsc[0].Type != "Delegated" {
				t.Errorf("permissions %+v, want the unified name of ReadWriteMailbox", rsc)
			}
			checkJSONCommands(t, &m, tc.wantBase)
		})
	}
}

// checkJSONCommands: the task pane and shareItem are runtime actions, and
// every ribbon control triggers one of them.
func checkJSONCommands(t *testing.T, m *jsonDoc, base string) {
	t.Helper()
	if len(m.Extensions) != 1 {
		t.Fatalf("%d extensions, want 1", len(m.Extensions))
	}
	ext := m.Extensions[0]
	actions := map[string]string{} // action id → page
	for _, rt := range ext.Runtimes {
		for _, a := range rt.Actions {
			actions[a.ID] = rt.Code.Page
			switch a.Type {
			case "openPage":
				if rt.Code.Page != base+"/crmUI/osc365/web/index.html" || !a.Pinnable {
					t.Errorf("openPage action %q on %q (pinnable %v)", a.ID, rt.Code.Page, a.Pinnable)
				}
			case "executeFunction":
				if a.ID != manifest.ShareFunctionName || rt.Code.Page != base+"/crmUI/osc365/web/commands.html" {
					t.Errorf("executeFunction action %q on %q", a.ID, rt.Code.Page)
				}
			default:
				t.Errorf("action %q of type %q", a.ID, a.Type)
			}
		}
	}
	if len(actions) != 2 {
		t.Errorf("actions %v, want the pane and %s", actions, manifest.ShareFunctionName)
	}
	if len(ext.Ribbons) != 2 {
		t.Fatalf("%d ribbons, want desktop and mobile", len(ext.Ribbons))
	}
	desktop, mobile := ext.Ribbons[0], ext.Ribbons[1]
	if !slices.Equal(desktop.Requirements.FormFactors, []string{"desktop"}) ||
		!slices.Equal(desktop.Contexts, []string{"mailRead", "meetingDetailsAttendee", "meetingDetailsOrganizer"}) {
		t.Errorf("desktop ribbon %v on %v", desktop.Requirements.FormFactors, desktop.Contexts)
	}
	if !slices.Equal(mobile.Requirements.FormFactors, []string{"mobile"}) || !slices.Equal(mobile.Contexts, []string{"mailRead"}) {
		t.Errorf("mobile ribbon %v on %v", mobile.Requirements.FormFactors, mobile.Contexts)
	}
	var used []string
	for _, r := range ext.Ribbons {
		for _, tab := range r.Tabs {
			if tab.BuiltInTabID != "TabDefault" {
				t.Errorf("tab %q", tab.BuiltInTabID)
			}
			for _, g := range tab.Groups {
				for _, c := range g.Controls {
					used = append(used, c.ActionID)
				}
			}
			for _, g := range tab.CustomMobileRibbonGroups {
				for _, c := range g.Controls {
					used = append(used, c.ActionID)
				}
			}
		}
	}
	for _, id := range used {
		if _, ok := actions[id]; !ok {
			t.Errorf("control triggers %q, which no runtime defines", id)
		}
	}
	if len(used) != 4 {
		t.Errorf("%d controls, want 2 on desktop and 2 on mobile", len(used))
	}
}

func TestJSONVersion(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		warn     bool
	}{
		{"1", "1.0.0", false},
		{"1.2", "1.2.0", false},
		{"1.2.3", "1.2.3", false},
		{"1.2.3.0", "1.2.3", false},
		{"01.002.0003", "1.2.3", false},
		{"1.0.0.9", "1.0.0", true},
	} {
		out, warnings, err := manifest.JSON(manifest.Input{ApplicationID: appID, Name: "Sales", PublicURL: "https://crm.example.com", Version: tc.in})
		if err != nil {
			t.Fatal(err)
		}
		var m jsonDoc
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if m.Version != tc.want || (len(warnings) > 0) != tc.warn {
			t.Errorf("version %q → %q (warnings %q), want %q (warning %v)", tc.in, m.Version, warnings, tc.want, tc.warn)
		}
	}
}
