package demo

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// Sizes of the demo CRM.
const (
	NumAccounts      = 50
	NumContacts      = 200
	NumLeads         = 30
	NumOpportunities = 40
	NumActivities    = 500
)

// MarkerAccount is the first demo account; its presence means the CRM part
// of the demo data was already seeded.
const MarkerAccount = "Northwind Traders"

// demoSeed makes the data the same on every run and every database.
const demoSeed = 20261203

type place struct {
	country, city, region, postal, street, phonePrefix string
	phoneDigits                                        int
}

// Real-looking addresses per country, valid for the country's format
// (postal-code pattern, required region where the country needs one).
var places = []place{
	{"US", "New York", "NY", "10018", "1350 Broadway", "+1212555", 4},
	{"US", "San Francisco", "CA", "94105", "101 Mission Street", "+1415555", 4},
	{"US", "Chicago", "IL", "60601", "233 South Wacker Drive", "+1312555", 4},
	{"GB", "London", "", "EC2V 7HH", "25 Gresham Street", "+44207946", 4},
	{"GB", "Manchester", "", "M1 4BT", "1 Piccadilly Gardens", "+44161496", 4},
	{"DE", "Berlin", "", "10117", "Friedrichstraße 68", "+4930901820", 2},
	{"DE", "München", "", "80331", "Marienplatz 8", "+4989123", 5},
	{"FR", "Paris", "", "75008", "52 Avenue des Champs-Élysées", "+3314268", 4},
	{"FR", "Lyon", "", "69002", "10 Rue de la République", "+3347210", 4},
	{"JP", "Chiyoda-ku", "Tokyo", "100-0005", "1-1-2 Marunouchi", "+8133", 7},
	{"CA", "Montréal", "QC", "H3B 2Y5", "1000 Rue De La Gauchetière O", "+1514555", 4},
	{"CA", "Toronto", "ON", "M5J 2N1", "200 Bay Street", "+1416555", 4},
	{"AU", "Sydney", "NSW", "2000", "1 Martin Place", "+6129", 7},
	{"NL", "Amsterdam", "", "1012 AB", "Damrak 1", "+3120", 7},
	{"ES", "Madrid", "Madrid", "28013", "Gran Vía 28", "+3491", 7},
	{"IT", "Roma", "RM", "00184", "Via Nazionale 91", "+3906", 8},
}

var countryNames = map[string]string{
	"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France", "JP": "Japan",
	"CA": "Canada", "AU": "Australia", "NL": "Netherlands", "ES": "Spain", "IT": "Italy",
}

// formatAddress renders the multi-line address in the country's order.
func formatAddress(a models.Address) string {
	var lines []string
	switch a.Country {
	case "US", "CA", "AU":
		lines = []string{a.Line1, strings.TrimSpace(a.Locality + " " + a.Region + " " + a.PostalCode)}
		if a.Country == "US" {
			lines[1] = a.Locality + ", " + a.Region + " " + a.PostalCode
		}
	case "GB":
		lines = []string{a.Line1, strings.ToUpper(a.Locality), a.PostalCode}
	case "JP":
		lines = []string{a.Line1 + ", " + a.Locality, a.Region + " " + a.PostalCode}
	case "IT":
		lines = []string{a.Line1, a.PostalCode + " " + a.Locality + " " + a.Region}
	case "ES":
		lines = []string{a.Line1, a.PostalCode + " " + a.Locality + " " + a.Region}
	default: // DE, FR, NL
		lines = []string{a.Line1, a.PostalCode + " " + a.Locality}
	}
	lines = append(lines, countryNames[a.Country])
	return strings.Join(lines, "\n")
}

func (p place) address(r *rand.Rand) models.Address {
	a := models.Address{Country: p.country, Line1: p.street, Locality: p.city, Region: p.region, PostalCode: p.postal}
	if r.Intn(4) == 0 {
		a.Line2 = fmt.Sprintf("Floor %d", 2+r.Intn(30))
	}
	a.Formatted = formatAddress(a)
	return a
}

func (p place) phone(r *rand.Rand) string {
	n := p.phoneDigits
	d := make([]byte, n)
	for i := range d {
		d[i] = byte('0' + r.Intn(10))
	}
	d[0] = byte('1' + r.Intn(9))
	return p.phonePrefix + string(d)
}

var companyNames = []string{
	MarkerAccount, "Fabrikam", "Adventure Works", "Tailspin Toys", "Wide World Importers", "Litware",
	"Proseware", "Coho Winery", "Alpine Ski House", "Blue Yonder Airlines", "City Power & Light",
	"Contoso Pharmaceuticals", "Fourth Coffee", "Graphic Design Institute", "Humongous Insurance",
	"Lamna Healthcare", "Margie's Travel", "Nod Publishers", "Relecloud", "School of Fine Art",
	"Southridge Video", "Trey Research", "VanArsdel", "Woodgrove Bank", "Wingtip Toys",
	"Bellows College", "Datum Corporation", "Lucerne Publishing", "Munson's Pickles", "Northwind Health",
	"Olympia Gardens", "Baldwin Museum", "Consolidated Messenger", "Fineartschool", "Hanover Metals",
	"Iberia Solar", "Kestrel Robotics", "Lindqvist Logistics", "Meridian Foods", "Nordlicht Energie",
	"Orchid Semiconductors", "Pacifica Shipping", "Quartz Analytics", "Rheinwerk Maschinenbau",
	"Sakura Electronics", "Tulipa Flowers", "Umbria Textiles", "Vega Aerospace", "Westbay Capital",
	"Yellowstone Outfitters",
}

var industries = []string{"Manufacturing", "Retail", "Financial Services", "Healthcare", "Technology",
	"Energy", "Logistics", "Education", "Media", "Hospitality"}

var firstNames = []string{"Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hiro", "Isabel",
	"Jonas", "Keiko", "Liam", "Mia", "Noah", "Olivia", "Pierre", "Quinn", "Rosa", "Sven", "Tara",
	"Umar", "Vera", "William", "Xenia", "Yusuf", "Zoe", "Lukas", "Chloé", "Mateo", "Sofia", "Emil", "Hanna"}

var lastNames = []string{"Müller", "Smith", "Dubois", "Tanaka", "García", "Rossi", "de Vries", "Brown",
	"Schmidt", "Martin", "Suzuki", "Johnson", "Lefèvre", "Bianchi", "Jansen", "Wilson", "Fischer",
	"Moreau", "Sato", "López", "Ricci", "Bakker", "Taylor", "Weber", "Laurent", "Ito", "Fernández",
	"Romano", "Visser", "Anderson", "Becker", "Girard", "Kobayashi", "Navarro", "Greco", "Clarke"}

var jobTitles = []string{"Purchasing Manager", "CFO", "CTO", "Head of Operations", "IT Director",
	"Procurement Lead", "VP Sales", "Office Manager", "Project Manager", "CEO", "Buyer", "Engineer"}

var stages = []string{"prospecting", "qualification", "proposal", "negotiation"}

var leadSources = []string{"web", "trade show", "referral", "cold call", "partner", "webinar"}

// emailLocal turns a name into the ASCII local part of an email address.
func emailLocal(s string) string {
	r := strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "ß", "ss", "é", "e", "è", "e", "á", "a",
		"í", "i", "ó", "o", " ", "", "'", "", "&", "")
	return strings.ToLower(r.Replace(s))
}

func domainOf(company string) string {
	return emailLocal(strings.ReplaceAll(company, "'s", "s")) + ".example"
}

func ptr[T any](v T) *T { return &v }

// seedCRM creates the demo CRM once. The marker account makes it
// idempotent; the seeded generator makes it the same everywhere.
func seedCRM(ctx context.Context, s *models.Store, now time.Time) error {
	db := s.DB(ctx)
	var n int64
	if err := db.Model(&models.Account{}).Where("name = ?", MarkerAccount).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var users []models.User
	if err := db.Where("lower(username) IN ?", []string{"jsmith", "mgarcia", "kchen", "pnovak"}).Order("id").Find(&users).Error; err != nil {
		return err
	}
	if len(users) == 0 {
		return fmt.Errorf("demo sales users missing")
	}
	r := rand.New(rand.NewSource(demoSeed))
	owner := func(i int) models.User { return users[i%len(users)] }
	rec := func(i int, at time.Time) models.Record {
		return models.Record{OwnerID: owner(i).ID, Origin: models.OriginImport, CreatedAt: at, UpdatedAt: at}
	}
	ago := func(maxDays int) time.Time {
		return now.Add(-time.Duration(r.Intn(maxDays*24*60)) * time.Minute).Truncate(time.Minute)
	}

	accounts := make([]models.Account, NumAccounts)
	accPlace := make([]place, NumAccounts)
	for i := range accounts {
		p := places[i%len(places)]
		accPlace[i] = p
		name := companyNames[i%len(companyNames)]
		accounts[i] = models.Account{Record: rec(i, ago(365)), Name: name,
			Website:  "https://www." + domainOf(name),
			Industry: industries[r.Intn(len(industries))], Phone: p.phone(r), Address: p.address(r)}
	}
	if err := db.CreateInBatches(&accounts, 100).Error; err != nil {
		return err
	}

	contacts := make([]models.Contact, NumContacts)
	seen := map[string]bool{}
	for i := range contacts {
		ai := i % NumAccounts
		acc := accounts[ai]
		first, last := firstNames[r.Intn(len(firstNames))], lastNames[r.Intn(len(lastNames))]
		local := emailLocal(first) + "." + emailLocal(last)
		email := local + "@" + domainOf(acc.Name)
		for k := 2; seen[strings.ToLower(email)]; k++ {
			email = fmt.Sprintf("%s%d@%s", local, k, domainOf(acc.Name))
		}
		seen[strings.ToLower(email)] = true
		norm := strings.ToLower(strings.TrimSpace(email))
		c := models.Contact{Record: rec(ai, ago(365)), AccountID: ptr(acc.ID), FirstName: first, LastName: last,
			Email: email, EmailNorm: norm, DupKey: strings.ToLower(first) + "|" + strings.ToLower(last) + "|" + norm,
			Phone: accPlace[ai].phone(r), JobTitle: jobTitles[r.Intn(len(jobTitles))],
			Address: accPlace[ai].address(r)}
		if r.Intn(2) == 0 {
			c.Mobile = accPlace[ai].phone(r)
		}
		contacts[i] = c
	}
	if err := db.CreateInBatches(&contacts, 100).Error; err != nil {
		return err
	}

	leads := make([]models.Lead, NumLeads)
	leadStatus := []string{"open", "open", "open", "qualified", "disqualified"}
	for i := range leads {
		ci := r.Intn(NumContacts)
		c := contacts[ci]
		acc := accounts[ci%NumAccounts]
		leads[i] = models.Lead{Record: rec(ci%NumAccounts, ago(180)), AccountID: c.AccountID, ContactID: ptr(c.ID),
			Name:    fmt.Sprintf("%s — %s interest", acc.Name, []string{"Platform", "Support plan", "Expansion", "Pilot", "Renewal"}[i%5]),
			Company: acc.Name, Email: c.Email, EmailNorm: c.EmailNorm, Phone: c.Phone,
			Status: leadStatus[i%len(leadStatus)], Source: leadSources[r.Intn(len(leadSources))]}
	}
	if err := db.CreateInBatches(&leads, 100).Error; err != nil {
		return err
	}

	opps := make([]models.Opportunity, NumOpportunities)
	currency := map[string]string{"US": "USD", "CA": "CAD", "GB": "GBP", "JP": "JPY", "AU": "AUD"}
	for i := range opps {
		ai := (i * 7) % NumAccounts
		acc := accounts[ai]
		c := contacts[ai] // the first contact of the account
		cur := currency[acc.Address.Country]
		if cur == "" {
			cur = "EUR"
		}
		o := models.Opportunity{Record: rec(ai, ago(300)), AccountID: ptr(acc.ID), ContactID: ptr(c.ID),
			Name:        fmt.Sprintf("%s %s", acc.Name, []string{"licences", "rollout", "renewal", "services", "upgrade"}[i%5]),
			AmountCents: int64(5_000+r.Intn(245_000)) * 100, Currency: cur}
		switch i % 5 {
		case 0:
			o.Status, o.Stage = "won", "closed_won"
			o.CloseDate = ptr(ago(200))
		case 1:
			o.Status, o.Stage = "lost", "closed_lost"
			o.CloseDate = ptr(ago(200))
		default:
			o.Status, o.Stage = "open", stages[r.Intn(len(stages))]
			o.CloseDate = ptr(now.AddDate(0, 0, 7+r.Intn(120)).Truncate(24 * time.Hour))
		}
		opps[i] = o
	}
	if err := db.CreateInBatches(&opps, 100).Error; err != nil {
		return err
	}
	oppsByAccount := map[int64][]int64{}
	for _, o := range opps {
		if o.Status == "open" {
			oppsByAccount[*o.AccountID] = append(oppsByAccount[*o.AccountID], o.ID)
		}
	}

	types := []string{models.ActivityEmail, models.ActivityEmail, models.ActivityAppointment, models.ActivityTask, models.ActivityCallReport}
	topics := []string{"Pricing for next year", "Follow-up on our call", "Quarterly business review", "Contract draft",
		"Onboarding plan", "Demo feedback", "Support escalation", "Renewal terms", "Workshop agenda", "Invoice question"}
	acts := make([]models.Activity, NumActivities)
	actContact := make([]int, NumActivities)
	for i := range acts {
		ci := r.Intn(NumContacts)
		actContact[i] = ci
		at := ago(365)
		tc := types[i%len(types)]
		a := models.Activity{Record: rec(ci%NumAccounts, at), TypeCode: tc, Source: "demo",
			Subject: topics[r.Intn(len(topics))] + " — " + accounts[ci%NumAccounts].Name}
		switch tc {
		case models.ActivityEmail:
			a.InternetMessageID = ptr(fmt.Sprintf("<demo-%04d@contoso.example>", i))
			a.ConversationID = fmt.Sprintf("demo-conv-%03d", i/3)
			a.StartAt = ptr(at)
			a.BodyText = "Hello,\n\nplease find the details below.\n\nBest regards"
			a.BodyHTML = "<p>Hello,</p><p>please find the details below.</p><p>Best regards</p>"
			a.Status = "sent"
		case models.ActivityAppointment:
			a.ICalUID = ptr(fmt.Sprintf("demo-%04d@salesbridge.example", i))
			a.StartAt = ptr(at)
			a.EndAt = ptr(at.Add(time.Duration(30+30*r.Intn(3)) * time.Minute))
			a.TimeZone = "UTC"
			a.Location = []string{"Teams meeting", "Customer office", "Our office"}[r.Intn(3)]
		case models.ActivityTask:
			a.DueAt = ptr(at.Add(72 * time.Hour))
			a.Status = []string{"not_started", "in_progress", "completed"}[r.Intn(3)]
		case models.ActivityCallReport:
			a.StartAt = ptr(at)
			a.BodyText = "Discussed next steps and timeline."
		}
		acts[i] = a
	}
	if err := db.CreateInBatches(&acts, 100).Error; err != nil {
		return err
	}

	var parts []models.ActivityParticipant
	var assocs []models.ActivityAssociation
	for i, a := range acts {
		c := contacts[actContact[i]]
		u := owner(actContact[i] % NumAccounts)
		name := c.FirstName + " " + c.LastName
		switch a.TypeCode {
		case models.ActivityEmail:
			inbound := i%2 == 0
			from, to := models.ActivityParticipant{Role: "from", ContactID: ptr(c.ID), Email: c.Email, Name: name},
				models.ActivityParticipant{Role: "to", UserID: ptr(u.ID), Email: u.Email, Name: u.DisplayName}
			if !inbound {
				from, to = models.ActivityParticipant{Role: "from", UserID: ptr(u.ID), Email: u.Email, Name: u.DisplayName},
					models.ActivityParticipant{Role: "to", ContactID: ptr(c.ID), Email: c.Email, Name: name}
			}
			from.ActivityID, to.ActivityID = a.ID, a.ID
			parts = append(parts, from, to)
			if cc := contacts[(actContact[i]+NumAccounts)%NumContacts]; i%3 == 0 && cc.ID != c.ID {
				parts = append(parts, models.ActivityParticipant{ActivityID: a.ID, Role: "cc", ContactID: ptr(cc.ID), Email: cc.Email, Name: cc.FirstName + " " + cc.LastName})
			}
		case models.ActivityAppointment:
			parts = append(parts,
				models.ActivityParticipant{ActivityID: a.ID, Role: "organizer", UserID: ptr(u.ID), Email: u.Email, Name: u.DisplayName},
				models.ActivityParticipant{ActivityID: a.ID, Role: "attendee", ContactID: ptr(c.ID), Email: c.Email, Name: name})
			if o := owner(actContact[i] + 1); o.ID != u.ID && i%4 == 0 {
				parts = append(parts, models.ActivityParticipant{ActivityID: a.ID, Role: "attendee", UserID: ptr(o.ID), Email: o.Email, Name: o.DisplayName})
			}
		default:
			parts = append(parts, models.ActivityParticipant{ActivityID: a.ID, Role: "attendee", ContactID: ptr(c.ID), Email: c.Email, Name: name})
		}
		at := a.CreatedAt
		assocs = append(assocs,
			models.ActivityAssociation{ActivityID: a.ID, ObjectType: models.ObjectContact, ObjectID: c.ID, CreatedBy: ptr(u.ID), CreatedAt: at},
			models.ActivityAssociation{ActivityID: a.ID, ObjectType: models.ObjectAccount, ObjectID: *c.AccountID, CreatedBy: ptr(u.ID), CreatedAt: at})
		if ids := oppsByAccount[*c.AccountID]; len(ids) > 0 && i%2 == 1 {
			assocs = append(assocs, models.ActivityAssociation{ActivityID: a.ID, ObjectType: models.ObjectOpportunity, ObjectID: ids[0], CreatedBy: ptr(u.ID), CreatedAt: at})
		}
	}
	if err := db.CreateInBatches(&parts, 200).Error; err != nil {
		return err
	}
	return db.CreateInBatches(&assocs, 200).Error
}
