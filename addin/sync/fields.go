package sync

import (
	"encoding/json"
	"strings"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/models"
)

// fields is a record's synced values by canonical field name (see the
// package comment for the mapping). Keys starting with "_" hold values only
// one side has, kept so a patch never drops them.
type fields map[string]string

var contactFields = []string{"firstName", "lastName", "email", "phone", "mobile", "jobTitle",
	"department", "notes", "street", "city", "state", "postalCode", "country", "company"}

// pushOnly fields travel from the CRM to Outlook only.
var pushOnly = map[string]bool{"company": true}

func (f fields) json() string {
	b, _ := json.Marshal(f)
	return string(b)
}

func parseFields(s string) fields {
	f := fields{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &f)
	}
	return f
}

func norm(s string) string { return strings.TrimSpace(s) }

// contactKey is the duplicate key: first + last name + email, case-folded.
func contactKey(f fields) string {
	if f["firstName"] == "" && f["lastName"] == "" && f["email"] == "" {
		return ""
	}
	return strings.ToLower(f["firstName"] + "\x00" + f["lastName"] + "\x00" + f["email"])
}

func crmContactFields(c *models.Contact, company string) fields {
	street := norm(c.Address.Line1)
	if l2 := norm(c.Address.Line2); l2 != "" {
		street += "\n" + l2
	}
	return fields{
		"firstName": norm(c.FirstName), "lastName": norm(c.LastName), "email": norm(c.Email),
		"phone": norm(c.Phone), "mobile": norm(c.Mobile), "jobTitle": norm(c.JobTitle),
		"department": norm(c.Department), "notes": norm(c.Notes), "street": street,
		"city": norm(c.Address.Locality), "state": norm(c.Address.Region),
		"postalCode": norm(c.Address.PostalCode), "country": norm(c.Address.Country),
		"company": norm(company),
	}
}

// applyToContact writes merged values into a CRM contact (company is not
// written: the account is not changed from Outlook).
func applyToContact(c *models.Contact, f fields) {
	c.FirstName, c.LastName = f["firstName"], f["lastName"]
	c.Email, c.EmailNorm = f["email"], strings.ToLower(f["email"])
	c.Phone, c.Mobile, c.JobTitle = f["phone"], f["mobile"], f["jobTitle"]
	c.Department, c.Notes = f["department"], f["notes"]
	lines := strings.SplitN(f["street"], "\n", 2)
	c.Address.Line1 = lines[0]
	c.Address.Line2 = ""
	if len(lines) > 1 {
		c.Address.Line2 = lines[1]
	}
	c.Address.Locality, c.Address.Region = f["city"], f["state"]
	c.Address.PostalCode, c.Address.Country = f["postalCode"], f["country"]
}

func graphContactFields(g *graph.Contact) fields {
	f := fields{
		"firstName": norm(g.GivenName), "lastName": norm(g.Surname), "mobile": norm(g.MobilePhone),
		"jobTitle": norm(g.JobTitle), "department": norm(g.Department), "notes": norm(g.PersonalNotes),
		"company": norm(g.CompanyName),
	}
	if len(g.EmailAddresses) > 0 {
		f["email"] = norm(g.EmailAddresses[0].Address)
		if len(g.EmailAddresses) > 1 {
			b, _ := json.Marshal(g.EmailAddresses[1:])
			f["_emails"] = string(b)
		}
	}
	if len(g.BusinessPhones) > 0 {
		f["phone"] = norm(g.BusinessPhones[0])
		if len(g.BusinessPhones) > 1 {
			b, _ := json.Marshal(g.BusinessPhones[1:])
			f["_phones"] = string(b)
		}
	}
	if a := g.BusinessAddress; a != nil {
		f["street"], f["city"], f["state"] = norm(a.Street), norm(a.City), norm(a.State)
		f["postalCode"], f["country"] = norm(a.PostalCode), norm(a.CountryOrRegion)
	}
	for _, k := range contactFields {
		if _, ok := f[k]; !ok {
			f[k] = ""
		}
	}
	return f
}

// contactPatch builds the Graph patch that makes an item hold the values of
// want for the given changed fields, keeping Outlook-only values of have.
func contactPatch(changed []string, want, have fields) graph.Patch {
	p := graph.Patch{}
	addr := false
	for _, k := range changed {
		switch k {
		case "firstName", "lastName":
			p["givenName"], p["surname"] = want["firstName"], want["lastName"]
			p["displayName"] = displayName(want)
		case "email":
			var extra []graph.EmailAddress
			_ = json.Unmarshal([]byte(have["_emails"]), &extra)
			list := []graph.EmailAddress{}
			if want["email"] != "" {
				list = append(list, graph.EmailAddress{Address: want["email"], Name: displayName(want)})
			}
			p["emailAddresses"] = append(list, extra...)
		case "phone":
			var extra []string
			_ = json.Unmarshal([]byte(have["_phones"]), &extra)
			list := []string{}
			if want["phone"] != "" {
				list = append(list, want["phone"])
			}
			p["businessPhones"] = append(list, extra...)
		case "mobile":
			p["mobilePhone"] = want["mobile"]
		case "jobTitle":
			p["jobTitle"] = want["jobTitle"]
		case "department":
			p["department"] = want["department"]
		case "notes":
			p["personalNotes"] = want["notes"]
		case "company":
			p["companyName"] = want["company"]
		case "street", "city", "state", "postalCode", "country":
			addr = true
		}
	}
	if addr {
		p["businessAddress"] = map[string]string{"street": want["street"], "city": want["city"],
			"state": want["state"], "postalCode": want["postalCode"], "countryOrRegion": want["country"]}
	}
	return p
}

func displayName(f fields) string {
	return strings.TrimSpace(f["firstName"] + " " + f["lastName"])
}

func newGraphContact(f fields, category string, crmID string) *graph.Contact {
	g := &graph.Contact{
		GivenName: f["firstName"], Surname: f["lastName"], DisplayName: displayName(f),
		MobilePhone: f["mobile"], JobTitle: f["jobTitle"], Department: f["department"],
		PersonalNotes: f["notes"], CompanyName: f["company"], Categories: []string{category},
	}
	if f["email"] != "" {
		g.EmailAddresses = []graph.EmailAddress{{Address: f["email"], Name: displayName(f)}}
	}
	if f["phone"] != "" {
		g.BusinessPhones = []string{f["phone"]}
	}
	if f["street"]+f["city"]+f["state"]+f["postalCode"]+f["country"] != "" {
		g.BusinessAddress = &graph.PhysicalAddress{Street: f["street"], City: f["city"], State: f["state"],
			PostalCode: f["postalCode"], CountryOrRegion: f["country"]}
	}
	g.SetCRMID(crmID)
	return g
}

func hasCategory(cats []string, name string) bool {
	for _, c := range cats {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// mergeResult is the outcome of a field-level three-way merge.
type mergeResult struct {
	result    fields
	conflicts []string // fields changed on both sides to different values
	toCRM     []string // fields whose CRM value must change
	toGraph   []string // fields whose Outlook value must change
}

// merge3 merges field by field against the last-synced snapshots. A field
// changed on one side takes that side's value; a field changed on both to
// different values is a conflict settled by the policy ("server" = CRM
// wins, "client" = Outlook wins); an unchanged field whose sides differ (a
// push that did not complete) takes the CRM value.
func merge3(kd kind, crmBase, graphBase, crm, g fields, winner string, locked map[string]bool) mergeResult {
	m := mergeResult{result: fields{}}
	for _, k := range kd.Names() {
		cv, gv := crm[k], g[k]
		cChanged, gChanged := cv != crmBase[k], gv != graphBase[k]
		var r string
		switch {
		case locked[k]:
			r = gv // cannot be changed from the CRM on this item
		case kd.PushOnly(k):
			r = cv
			if cv == "" {
				r = gv // nothing to push; keep Outlook's
			}
		case cChanged && gChanged && cv != gv:
			m.conflicts = append(m.conflicts, k)
			if winner == "client" {
				r = gv
			} else {
				r = cv
			}
		case gChanged:
			r = gv
		default:
			r = cv
		}
		m.result[k] = r
		if r != cv && !kd.PushOnly(k) {
			m.toCRM = append(m.toCRM, k)
		}
		if r != gv {
			m.toGraph = append(m.toGraph, k)
		}
	}
	for k, v := range g {
		if strings.HasPrefix(k, "_") {
			m.result[k] = v
		}
	}
	return m
}
