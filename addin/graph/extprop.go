package graph

import "net/url"

// CRMIDPropertyID names the single-value extended property that carries the
// SalesBridge CRM id on contacts, events and messages. The GUID is
// SalesBridge's own property set and must never change: items already in
// mailboxes are found by it. Writing the id onto the Outlook item is what
// lets sync recover a link lost in a crash between "created in Graph" and
// "link saved" by lookup rather than by creating a duplicate.
const CRMIDPropertyID = "String {6c1f0a52-3b7e-4d3a-9f51-2a8e5c0d7b41} Name SalesBridgeCrmId"

// CRMIDProperties returns the extended-property list that stamps crmID on
// an item in a create or update body.
func CRMIDProperties(crmID string) []SingleValueExtendedProperty {
	return []SingleValueExtendedProperty{{ID: CRMIDPropertyID, Value: crmID}}
}

// WithCRMID adds the CRM id stamp to a patch.
func (p Patch) WithCRMID(crmID string) Patch {
	if p == nil {
		p = Patch{}
	}
	p["singleValueExtendedProperties"] = CRMIDProperties(crmID)
	return p
}

func crmIDOf(props []SingleValueExtendedProperty) string {
	for _, p := range props {
		if equalPropID(p.ID, CRMIDPropertyID) {
			return p.Value
		}
	}
	return ""
}

// Graph normalises the case of the GUID and the "Name" keyword, so compare
// property ids case-insensitively.
func equalPropID(a, b string) bool { return len(a) == len(b) && lowerASCII(a) == lowerASCII(b) }

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CRMID returns the SalesBridge CRM id stamped on the contact, if read with
// the property expanded (GetContact and FindContactByCRMID do).
func (c *Contact) CRMID() string { return crmIDOf(c.SingleValueExtendedProperties) }

// SetCRMID stamps the CRM id for a create.
func (c *Contact) SetCRMID(id string) { c.SingleValueExtendedProperties = CRMIDProperties(id) }

// CRMID returns the stamped CRM id, if expanded.
func (e *Event) CRMID() string { return crmIDOf(e.SingleValueExtendedProperties) }

// SetCRMID stamps the CRM id for a create.
func (e *Event) SetCRMID(id string) { e.SingleValueExtendedProperties = CRMIDProperties(id) }

// CRMID returns the stamped CRM id (the activity id of a shared message).
func (m *Message) CRMID() string { return crmIDOf(m.SingleValueExtendedProperties) }

// expandCRMID is the $expand that returns only our property with an item.
func expandCRMID() string {
	return "singleValueExtendedProperties($filter=id eq " + odataString(CRMIDPropertyID) + ")"
}

// crmIDLookup builds the query that finds items stamped with crmID.
func crmIDLookup(crmID string) url.Values {
	return url.Values{
		"$filter": {"singleValueExtendedProperties/Any(ep: ep/id eq " + odataString(CRMIDPropertyID) +
			" and ep/value eq " + odataString(crmID) + ")"},
		"$expand": {expandCRMID()},
	}
}
