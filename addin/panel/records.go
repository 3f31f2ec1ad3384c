package panel

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/salesbridge/salesbridge/addin/panel/address"
	"github.com/salesbridge/salesbridge/addin/panel/phone"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
)

// Actor is the calling sales user.
type Actor struct {
	UserID int64
	Admin  bool
}

// ContactFields are the editable fields of a contact. Address nil means no
// address.
type ContactFields struct {
	AccountID  *int64
	FirstName  string
	LastName   string
	Email      string
	Phone      string
	Mobile     string
	JobTitle   string
	Department string
	Notes      string
	Address    *address.Address
}

// AccountFields are the editable fields of an account.
type AccountFields struct {
	Name     string
	Website  string
	Industry string
	Phone    string
	Address  *address.Address
}

// LeadFields are the editable fields of a lead.
type LeadFields struct {
	AccountID *int64
	ContactID *int64
	Name      string
	Company   string
	Email     string
	Phone     string
	Status    string
	Source    string
}

// OpportunityFields are the editable fields of an opportunity.
type OpportunityFields struct {
	AccountID   *int64
	ContactID   *int64
	Name        string
	Stage       string
	Status      string
	AmountCents int64
	Currency    string
	CloseDate   *time.Time
}

// Duplicate says how to treat a contact that matches an existing one.
type Duplicate struct {
	Allow  bool
	Reason string
}

// Field length limits (characters).
const (
	maxName  = 200
	maxShort = 100
	maxEmail = 254
	maxNotes = 10000
	maxURL   = 500
)

// fieldErrs collects validation errors by JSON field name.
type fieldErrs map[string]string

func (f fieldErrs) length(field, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		f[field] = fmt.Sprintf("must be at most %d characters", max)
	}
}

func (f fieldErrs) required(field, v string) {
	if strings.TrimSpace(v) == "" {
		f[field] = "is required"
	}
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return models.Invalid(f)
}

func (f fieldErrs) email(field string, v *string) {
	*v = strings.TrimSpace(*v)
	if *v == "" {
		return
	}
	if utf8.RuneCountInString(*v) > maxEmail {
		f[field] = fmt.Sprintf("must be at most %d characters", maxEmail)
		return
	}
	if ValidEmail(*v) {
		return
	}
	f[field] = "is not a valid email address"
}

// ValidEmail reports whether s is a bare email address (local@domain).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

func (f fieldErrs) phone(field string, v *string, region string) {
	*v = strings.TrimSpace(*v)
	if *v == "" {
		return
	}
	if len(*v) > maxPhone {
		f[field] = fmt.Sprintf("must be at most %d characters", maxPhone)
		return
	}
	e164, err := phone.Normalize(*v, region)
	if err != nil {
		f[field] = phoneMessage(err)
		return
	}
	*v = e164
}

// addr validates and normalises an address in place, returning the
// columns to store.
func (f fieldErrs) addr(a *address.Address) models.Address {
	if a == nil {
		return models.Address{}
	}
	n := address.Normalize(*a)
	for k, msg := range address.Validate(n) {
		f["primaryAddress."+k] = msg
	}
	out := models.Address{
		Country:           n.Country,
		DependentLocality: n.DependentLocality,
		Locality:          n.Locality,
		Region:            n.Region,
		PostalCode:        n.PostalCode,
		SortingCode:       n.SortingCode,
	}
	lines := []*string{&out.Line1, &out.Line2, &out.Line3}
	for i, l := range n.Lines {
		if i < len(lines) {
			*lines[i] = l
		}
	}
	out.Formatted = address.Format(n)
	*a = n
	return out
}

// AddressOf converts stored address columns back to an address; nil when
// the record has none.
func AddressOf(m models.Address) *address.Address {
	if m.Country == "" && m.Line1 == "" && m.Locality == "" && m.PostalCode == "" {
		return nil
	}
	a := &address.Address{
		Country: m.Country, DependentLocality: m.DependentLocality, Locality: m.Locality,
		Region: m.Region, PostalCode: m.PostalCode, SortingCode: m.SortingCode,
	}
	for _, l := range []string{m.Line1, m.Line2, m.Line3} {
		if l != "" {
			a.Lines = append(a.Lines, l)
		}
	}
	return a
}

// regionOf is the default region for national phone numbers: the
// country of an address already normalised by addr, else fallback.
func regionOf(a *address.Address, fallback string) string {
	if a != nil && a.Country != "" {
		return a.Country
	}
	return fallback
}

// maxPhone bounds a phone number as typed (a stored number is E.164).
const maxPhone = 64

// phoneMessage is the field message of a rejected number: the phone
// package's reason ("is too short", …), or a generic one.
func phoneMessage(err error) string {
	var pe *phone.Error
	if errors.As(err, &pe) {
		switch pe.Reason {
		case phone.ReasonInvalidRegion:
			return "needs a country: start it with + and the country code"
		case phone.ReasonTooShort:
			return "is too short for a phone number"
		case phone.ReasonTooLong:
			return "is too long for a phone number"
		case phone.ReasonInvalidCountryCode:
			return "has an unknown country calling code"
		}
	}
	return "is not a valid phone number"
}

// checkRef verifies that a referenced record exists.
func (s *Service) checkRef(ctx context.Context, f fieldErrs, field, objectType string, id *int64) {
	if id == nil {
		return
	}
	var n int64
	if err := s.Store.DB(ctx).Table(tableOf[objectType]).Where("id = ? AND deleted_at IS NULL", *id).Count(&n).Error; err != nil || n == 0 {
		f[field] = "no such " + objectType
	}
}

var spaceRun = regexp.MustCompile(`\s+`)

// DupKey is the duplicate-check key of a contact: first name, last name
// and email, case- and space-insensitive.
func DupKey(first, last, email string) string {
	norm := func(s string) string { return spaceRun.ReplaceAllString(strings.ToLower(s), "") }
	return norm(first) + "|" + norm(last) + "|" + norm(email)
}

func (s *Service) validateContact(ctx context.Context, in *ContactFields) (models.Address, error) {
	f := fieldErrs{}
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if in.FirstName == "" && in.LastName == "" {
		f["lastName"] = "is required (or firstName)"
	}
	f.length("firstName", in.FirstName, maxShort)
	f.length("lastName", in.LastName, maxShort)
	f.length("jobTitle", in.JobTitle, maxName)
	f.length("department", in.Department, maxName)
	f.length("notes", in.Notes, maxNotes)
	f.email("email", &in.Email)
	addr := f.addr(in.Address)
	region := regionOf(in.Address, s.region())
	f.phone("phone", &in.Phone, region)
	f.phone("mobile", &in.Mobile, region)
	s.checkRef(ctx, f, "accountId", TypeAccount, in.AccountID)
	return addr, f.err()
}

func applyContact(c *models.Contact, in ContactFields, addr models.Address) {
	c.AccountID = in.AccountID
	c.FirstName, c.LastName = in.FirstName, in.LastName
	c.Email, c.EmailNorm = in.Email, NormEmail(in.Email)
	c.Phone, c.Mobile = in.Phone, in.Mobile
	c.JobTitle, c.Department, c.Notes = in.JobTitle, in.Department, in.Notes
	c.DupKey = DupKey(in.FirstName, in.LastName, in.Email)
	c.Address = addr
}

// CreateContact creates a contact owned by the actor, refusing a duplicate
// (same first name, last name and email) with conflict and the existing
// contact's id unless dup.Allow with a reason.
func (s *Service) CreateContact(ctx context.Context, who Actor, in ContactFields, dup Duplicate) (*models.Contact, error) {
	addr, err := s.validateContact(ctx, &in)
	if err != nil {
		return nil, err
	}
	c := &models.Contact{Record: models.Record{OwnerID: who.UserID, Origin: models.OriginManual}}
	applyContact(c, in, addr)
	// Two concurrent creates of the same contact must not both pass the
	// check below.
	if err := s.Store.LockKey(ctx, "contact-dup", c.DupKey); err != nil {
		return nil, err
	}
	db := s.Store.DB(ctx)
	var existing []int64
	if err := db.Model(&models.Contact{}).Where("dup_key = ? AND deleted_at IS NULL", c.DupKey).Order("id").Limit(1).Pluck("id", &existing).Error; err != nil {
		return nil, err
	}
	if len(existing) > 0 {
		if !dup.Allow {
			return nil, &models.Error{Code: models.CodeConflict,
				Message: "A contact with the same first name, last name and email already exists.",
				Details: map[string]any{"existingId": existing[0]}}
		}
		reason := strings.TrimSpace(dup.Reason)
		if reason == "" {
			return nil, models.InvalidField("duplicateReason", "is required to create a duplicate contact")
		}
		if utf8.RuneCountInString(reason) > maxName {
			return nil, models.InvalidField("duplicateReason", fmt.Sprintf("must be at most %d characters", maxName))
		}
		c.DuplicateReason = reason
	}
	if err := db.Create(c).Error; err != nil {
		return nil, err
	}
	return c, s.afterWrite(ctx, who, TypeContact, c.ID, c.OwnerID, ActionCreated)
}

// UpdateContact replaces a contact's editable fields. ifVersion, when not
// zero, must be the record's current version (else precondition_failed).
func (s *Service) UpdateContact(ctx context.Context, who Actor, id, ifVersion int64, in ContactFields) (*models.Contact, error) {
	c, err := s.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(c.Version, ifVersion); err != nil {
		return nil, err
	}
	addr, err := s.validateContact(ctx, &in)
	if err != nil {
		return nil, err
	}
	applyContact(c, in, addr)
	if err := s.Store.DB(ctx).Save(c).Error; err != nil {
		return nil, err
	}
	return c, s.afterWrite(ctx, who, TypeContact, c.ID, c.OwnerID, ActionEdited)
}

func checkVersion(current, want int64) error {
	if want != 0 && want != current {
		return &models.Error{Code: models.CodePreconditionFailed,
			Message: "The record was changed by someone else; reload it and apply your change again.",
			Details: map[string]any{"currentVersion": current}}
	}
	return nil
}

// GetContact loads a live contact.
func (s *Service) GetContact(ctx context.Context, id int64) (*models.Contact, error) {
	var c models.Contact
	if err := s.Store.DB(ctx).First(&c, id).Error; err != nil {
		return nil, notFound(err, "contact")
	}
	return &c, nil
}

func notFound(err error, what string) error {
	if err == gorm.ErrRecordNotFound {
		return models.NotFound(what)
	}
	return err
}

func (s *Service) validateAccount(in *AccountFields) (models.Address, error) {
	f := fieldErrs{}
	in.Name = strings.TrimSpace(in.Name)
	f.required("name", in.Name)
	f.length("name", in.Name, maxName)
	f.length("website", in.Website, maxURL)
	f.length("industry", in.Industry, maxShort)
	addr := f.addr(in.Address)
	f.phone("phone", &in.Phone, regionOf(in.Address, s.region()))
	return addr, f.err()
}

func applyAccount(a *models.Account, in AccountFields, addr models.Address) {
	a.Name, a.Website, a.Industry, a.Phone, a.Address = in.Name, strings.TrimSpace(in.Website), strings.TrimSpace(in.Industry), in.Phone, addr
}

// CreateAccount creates an account owned by the actor.
func (s *Service) CreateAccount(ctx context.Context, who Actor, in AccountFields) (*models.Account, error) {
	addr, err := s.validateAccount(&in)
	if err != nil {
		return nil, err
	}
	a := &models.Account{Record: models.Record{OwnerID: who.UserID}}
	applyAccount(a, in, addr)
	if err := s.Store.DB(ctx).Create(a).Error; err != nil {
		return nil, err
	}
	return a, s.afterWrite(ctx, who, TypeAccount, a.ID, a.OwnerID, ActionCreated)
}

// UpdateAccount replaces an account's editable fields.
func (s *Service) UpdateAccount(ctx context.Context, who Actor, id, ifVersion int64, in AccountFields) (*models.Account, error) {
	a, err := s.GetAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(a.Version, ifVersion); err != nil {
		return nil, err
	}
	addr, err := s.validateAccount(&in)
	if err != nil {
		return nil, err
	}
	applyAccount(a, in, addr)
	if err := s.Store.DB(ctx).Save(a).Error; err != nil {
		return nil, err
	}
	return a, s.afterWrite(ctx, who, TypeAccount, a.ID, a.OwnerID, ActionEdited)
}

// GetAccount loads a live account.
func (s *Service) GetAccount(ctx context.Context, id int64) (*models.Account, error) {
	var a models.Account
	if err := s.Store.DB(ctx).First(&a, id).Error; err != nil {
		return nil, notFound(err, "account")
	}
	return &a, nil
}

var (
	leadStatuses = map[string]bool{"open": true, "qualified": true, "disqualified": true}
	oppStatuses  = map[string]bool{"open": true, "won": true, "lost": true}
	currencyRE   = regexp.MustCompile(`^[A-Z]{3}$`)
)

func (s *Service) validateLead(ctx context.Context, in *LeadFields) error {
	f := fieldErrs{}
	in.Name = strings.TrimSpace(in.Name)
	f.required("name", in.Name)
	f.length("name", in.Name, maxName)
	f.length("company", in.Company, maxName)
	f.length("source", in.Source, maxShort)
	f.email("email", &in.Email)
	f.phone("phone", &in.Phone, s.region())
	if in.Status == "" {
		in.Status = "open"
	}
	if !leadStatuses[in.Status] {
		f["status"] = "must be one of open, qualified, disqualified"
	}
	s.checkRef(ctx, f, "accountId", TypeAccount, in.AccountID)
	s.checkRef(ctx, f, "contactId", TypeContact, in.ContactID)
	return f.err()
}

func applyLead(l *models.Lead, in LeadFields) {
	l.AccountID, l.ContactID = in.AccountID, in.ContactID
	l.Name, l.Company, l.Email, l.EmailNorm = in.Name, strings.TrimSpace(in.Company), in.Email, NormEmail(in.Email)
	l.Phone, l.Status, l.Source = in.Phone, in.Status, strings.TrimSpace(in.Source)
}

// CreateLead creates a lead owned by the actor.
func (s *Service) CreateLead(ctx context.Context, who Actor, in LeadFields) (*models.Lead, error) {
	if err := s.validateLead(ctx, &in); err != nil {
		return nil, err
	}
	l := &models.Lead{Record: models.Record{OwnerID: who.UserID}}
	applyLead(l, in)
	if err := s.Store.DB(ctx).Create(l).Error; err != nil {
		return nil, err
	}
	return l, s.afterWrite(ctx, who, TypeLead, l.ID, l.OwnerID, ActionCreated)
}

// UpdateLead replaces a lead's editable fields.
func (s *Service) UpdateLead(ctx context.Context, who Actor, id, ifVersion int64, in LeadFields) (*models.Lead, error) {
	l, err := s.GetLead(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(l.Version, ifVersion); err != nil {
		return nil, err
	}
	if err := s.validateLead(ctx, &in); err != nil {
		return nil, err
	}
	applyLead(l, in)
	if err := s.Store.DB(ctx).Save(l).Error; err != nil {
		return nil, err
	}
	return l, s.afterWrite(ctx, who, TypeLead, l.ID, l.OwnerID, ActionEdited)
}

// GetLead loads a live lead.
func (s *Service) GetLead(ctx context.Context, id int64) (*models.Lead, error) {
	var l models.Lead
	if err := s.Store.DB(ctx).First(&l, id).Error; err != nil {
		return nil, notFound(err, "lead")
	}
	return &l, nil
}

func (s *Service) validateOpportunity(ctx context.Context, in *OpportunityFields) error {
	f := fieldErrs{}
	in.Name = strings.TrimSpace(in.Name)
	f.required("name", in.Name)
	f.length("name", in.Name, maxName)
	if in.Stage == "" {
		in.Stage = "prospecting"
	}
	f.length("stage", in.Stage, maxShort)
	if in.Status == "" {
		in.Status = "open"
	}
	if !oppStatuses[in.Status] {
		f["status"] = "must be one of open, won, lost"
	}
	if in.AmountCents < 0 {
		f["amountCents"] = "must not be negative"
	}
	if in.Currency == "" {
		in.Currency = "USD"
	}
	if !currencyRE.MatchString(in.Currency) {
		f["currency"] = "must be an ISO 4217 code such as USD"
	}
	s.checkRef(ctx, f, "accountId", TypeAccount, in.AccountID)
	s.checkRef(ctx, f, "contactId", TypeContact, in.ContactID)
	return f.err()
}

func applyOpportunity(o *models.Opportunity, in OpportunityFields) {
	o.AccountID, o.ContactID = in.AccountID, in.ContactID
	o.Name, o.Stage, o.Status = in.Name, in.Stage, in.Status
	o.AmountCents, o.Currency, o.CloseDate = in.AmountCents, in.Currency, in.CloseDate
}

// CreateOpportunity creates an opportunity owned by the actor.
func (s *Service) CreateOpportunity(ctx context.Context, who Actor, in OpportunityFields) (*models.Opportunity, error) {
	if err := s.validateOpportunity(ctx, &in); err != nil {
		return nil, err
	}
	o := &models.Opportunity{Record: models.Record{OwnerID: who.UserID}}
	applyOpportunity(o, in)
	if err := s.Store.DB(ctx).Create(o).Error; err != nil {
		return nil, err
	}
	return o, s.afterWrite(ctx, who, TypeOpportunity, o.ID, o.OwnerID, ActionCreated)
}

// UpdateOpportunity replaces an opportunity's editable fields.
func (s *Service) UpdateOpportunity(ctx context.Context, who Actor, id, ifVersion int64, in OpportunityFields) (*models.Opportunity, error) {
	o, err := s.GetOpportunity(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(o.Version, ifVersion); err != nil {
		return nil, err
	}
	if err := s.validateOpportunity(ctx, &in); err != nil {
		return nil, err
	}
	applyOpportunity(o, in)
	if err := s.Store.DB(ctx).Save(o).Error; err != nil {
		return nil, err
	}
	return o, s.afterWrite(ctx, who, TypeOpportunity, o.ID, o.OwnerID, ActionEdited)
}

// GetOpportunity loads a live opportunity.
func (s *Service) GetOpportunity(ctx context.Context, id int64) (*models.Opportunity, error) {
	var o models.Opportunity
	if err := s.Store.DB(ctx).First(&o, id).Error; err != nil {
		return nil, notFound(err, "opportunity")
	}
	return &o, nil
}

// Delete soft-deletes a record. Only its owner or an administrator may.
func (s *Service) Delete(ctx context.Context, who Actor, objectType string, id, ifVersion int64) error {
	table, ok := tableOf[objectType]
	if !ok || objectType == TypeActivity {
		return models.InvalidField("type", "unknown record type")
	}
	var row struct {
		OwnerID int64
		Version int64
	}
	res := s.Store.DB(ctx).Table(table).Select("owner_id, version").Where("id = ? AND deleted_at IS NULL", id).Limit(1).Scan(&row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.NotFound(objectType)
	}
	if row.OwnerID != who.UserID && !who.Admin {
		return models.Errorf(models.CodePermissionDenied, "Only the owner of this %s or an administrator may delete it.", objectType)
	}
	if err := checkVersion(row.Version, ifVersion); err != nil {
		return err
	}
	if err := s.Store.SoftDelete(ctx, table, id); err != nil {
		return err
	}
	if objectType == TypeContact {
		return s.pushIfSynced(ctx, row.OwnerID, models.SyncContact, id)
	}
	return nil
}

// afterWrite records the change for Recent and usage, and pushes a contact
// change to its owner's mailbox.
func (s *Service) afterWrite(ctx context.Context, who Actor, objectType string, id, ownerID int64, action string) error {
	if err := s.Touch(ctx, who.UserID, objectType, id, action); err != nil {
		return err
	}
	kind := usage.Edit
	if action == ActionCreated {
		kind = usage.Create
	}
	if err := usage.Record(ctx, s.Store, who.UserID, kind, 1); err != nil {
		return err
	}
	if objectType == TypeContact {
		return s.pushIfSynced(ctx, ownerID, models.SyncContact, id)
	}
	return nil
}

// pushIfSynced enqueues, in the current transaction, the job that pushes a
// record to its owner's mailbox, when the owner is mapped to a mailbox and
// sync of that type is enabled.
func (s *Service) pushIfSynced(ctx context.Context, ownerID int64, syncType string, crmID int64) error {
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		return err
	}
	enabled := map[string]bool{models.SyncContact: st.Contacts.Enabled, models.SyncAppointment: st.Appointments.Enabled, models.SyncTask: st.Tasks.Enabled}[syncType]
	if !enabled || s.Queue == nil {
		return nil
	}
	var n int64
	if err := s.Store.DB(ctx).Model(&models.UserMapping{}).
		Where("user_id = ? AND sync_state IN ?", ownerID, []string{models.SyncActive, models.SyncNeedsReview}).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return s.Queue.Enqueue(ctx, syncjobs.PushArgs{UserID: ownerID, ObjectType: syncType, CrmID: crmID}, nil)
}
