package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/panel"
	"github.com/salesbridge/salesbridge/addin/panel/address"
	"github.com/salesbridge/salesbridge/models"
)

// AddressRequest is a "primaryAddress" as clients send it.
type AddressRequest struct {
	Country           string   `json:"country"`
	Lines             []string `json:"lines"`
	DependentLocality string   `json:"dependentLocality"`
	Locality          string   `json:"locality"`
	Region            string   `json:"region"`
	PostalCode        string   `json:"postalCode"`
	SortingCode       string   `json:"sortingCode"`
}

// AddressResponse is a stored address with its formatted label.
type AddressResponse struct {
	Country           string   `json:"country"`
	Lines             []string `json:"lines"`
	DependentLocality string   `json:"dependentLocality"`
	Locality          string   `json:"locality"`
	Region            string   `json:"region"`
	PostalCode        string   `json:"postalCode"`
	SortingCode       string   `json:"sortingCode"`
	Formatted         string   `json:"formatted"`
}

func (a *AddressRequest) toAddress() *address.Address {
	if a == nil {
		return nil
	}
	return &address.Address{Country: a.Country, Lines: a.Lines, DependentLocality: a.DependentLocality,
		Locality: a.Locality, Region: a.Region, PostalCode: a.PostalCode, SortingCode: a.SortingCode}
}

func fromAddress(a *address.Address) *AddressRequest {
	if a == nil {
		return nil
	}
	return &AddressRequest{Country: a.Country, Lines: a.Lines, DependentLocality: a.DependentLocality,
		Locality: a.Locality, Region: a.Region, PostalCode: a.PostalCode, SortingCode: a.SortingCode}
}

// ToAddressResponse converts stored address columns; nil when empty.
func ToAddressResponse(m models.Address) *AddressResponse {
	a := panel.AddressOf(m)
	if a == nil {
		return nil
	}
	lines := a.Lines
	if lines == nil {
		lines = []string{}
	}
	return &AddressResponse{Country: a.Country, Lines: lines, DependentLocality: a.DependentLocality, Locality: a.Locality,
		Region: a.Region, PostalCode: a.PostalCode, SortingCode: a.SortingCode, Formatted: m.Formatted}
}

// ContactRequest creates (POST) or partially updates (PATCH) a contact.
type ContactRequest struct {
	AccountID       *int64          `json:"accountId"`
	FirstName       *string         `json:"firstName"`
	LastName        *string         `json:"lastName"`
	Email           *string         `json:"email"`
	Phone           *string         `json:"phone"`
	Mobile          *string         `json:"mobile"`
	JobTitle        *string         `json:"jobTitle"`
	Department      *string         `json:"department"`
	Notes           *string         `json:"notes"`
	PrimaryAddress  *AddressRequest `json:"primaryAddress"`
	DuplicateReason *string         `json:"duplicateReason"`
}

// ContactResponse is a contact as the API shows it.
type ContactResponse struct {
	ID              int64            `json:"id"`
	OwnerID         int64            `json:"ownerId"`
	Version         int64            `json:"version"`
	AccountID       *int64           `json:"accountId"`
	FirstName       string           `json:"firstName"`
	LastName        string           `json:"lastName"`
	Email           string           `json:"email"`
	Phone           string           `json:"phone"`
	Mobile          string           `json:"mobile"`
	JobTitle        string           `json:"jobTitle"`
	Department      string           `json:"department"`
	Notes           string           `json:"notes"`
	PrimaryAddress  *AddressResponse `json:"primaryAddress"`
	DuplicateReason string           `json:"duplicateReason,omitempty"`
	CreatedAt       time.Time        `json:"createdAt"`
	UpdatedAt       time.Time        `json:"updatedAt"`
}

// ToContactResponse converts a stored contact.
func ToContactResponse(c *models.Contact) ContactResponse {
	return ContactResponse{ID: c.ID, OwnerID: c.OwnerID, Version: c.Version, AccountID: c.AccountID,
		FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Mobile: c.Mobile,
		JobTitle: c.JobTitle, Department: c.Department, Notes: c.Notes, PrimaryAddress: ToAddressResponse(c.Address),
		DuplicateReason: c.DuplicateReason, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (r *ContactRequest) apply(f *panel.ContactFields) {
	if r.AccountID != nil {
		f.AccountID = r.AccountID
	}
	set(&f.FirstName, r.FirstName)
	set(&f.LastName, r.LastName)
	set(&f.Email, r.Email)
	set(&f.Phone, r.Phone)
	set(&f.Mobile, r.Mobile)
	set(&f.JobTitle, r.JobTitle)
	set(&f.Department, r.Department)
	set(&f.Notes, r.Notes)
	if r.PrimaryAddress != nil {
		f.Address = r.PrimaryAddress.toAddress()
	}
}

func contactFields(c *models.Contact) panel.ContactFields {
	return panel.ContactFields{AccountID: c.AccountID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Phone: c.Phone, Mobile: c.Mobile, JobTitle: c.JobTitle, Department: c.Department, Notes: c.Notes,
		Address: fromAddress(panel.AddressOf(c.Address)).toAddress()}
}

// AccountRequest creates or partially updates an account.
type AccountRequest struct {
	Name           *string         `json:"name"`
	Website        *string         `json:"website"`
	Industry       *string         `json:"industry"`
	Phone          *string         `json:"phone"`
	PrimaryAddress *AddressRequest `json:"primaryAddress"`
}

// AccountResponse is an account as the API shows it.
type AccountResponse struct {
	ID             int64            `json:"id"`
	OwnerID        int64            `json:"ownerId"`
	Version        int64            `json:"version"`
	Name           string           `json:"name"`
	Website        string           `json:"website"`
	Industry       string           `json:"industry"`
	Phone          string           `json:"phone"`
	PrimaryAddress *AddressResponse `json:"primaryAddress"`
	CreatedAt      time.Time        `json:"createdAt"`
	UpdatedAt      time.Time        `json:"updatedAt"`
}

// ToAccountResponse converts a stored account.
func ToAccountResponse(a *models.Account) AccountResponse {
	return AccountResponse{ID: a.ID, OwnerID: a.OwnerID, Version: a.Version, Name: a.Name, Website: a.Website,
		Industry: a.Industry, Phone: a.Phone, PrimaryAddress: ToAddressResponse(a.Address), CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func (r *AccountRequest) apply(f *panel.AccountFields) {
	set(&f.Name, r.Name)
	set(&f.Website, r.Website)
	set(&f.Industry, r.Industry)
	set(&f.Phone, r.Phone)
	if r.PrimaryAddress != nil {
		f.Address = r.PrimaryAddress.toAddress()
	}
}

// LeadRequest creates or partially updates a lead.
type LeadRequest struct {
	AccountID *int64  `json:"accountId"`
	ContactID *int64  `json:"contactId"`
	Name      *string `json:"name"`
	Company   *string `json:"company"`
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
	Status    *string `json:"status"`
	Source    *string `json:"source"`
}

// LeadResponse is a lead as the API shows it.
type LeadResponse struct {
	ID        int64     `json:"id"`
	OwnerID   int64     `json:"ownerId"`
	Version   int64     `json:"version"`
	AccountID *int64    `json:"accountId"`
	ContactID *int64    `json:"contactId"`
	Name      string    `json:"name"`
	Company   string    `json:"company"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ToLeadResponse converts a stored lead.
func ToLeadResponse(l *models.Lead) LeadResponse {
	return LeadResponse{ID: l.ID, OwnerID: l.OwnerID, Version: l.Version, AccountID: l.AccountID, ContactID: l.ContactID,
		Name: l.Name, Company: l.Company, Email: l.Email, Phone: l.Phone, Status: l.Status, Source: l.Source,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

func (r *LeadRequest) apply(f *panel.LeadFields) {
	if r.AccountID != nil {
		f.AccountID = r.AccountID
	}
	if r.ContactID != nil {
		f.ContactID = r.ContactID
	}
	set(&f.Name, r.Name)
	set(&f.Company, r.Company)
	set(&f.Email, r.Email)
	set(&f.Phone, r.Phone)
	set(&f.Status, r.Status)
	set(&f.Source, r.Source)
}

// OpportunityRequest creates or partially updates an opportunity.
type OpportunityRequest struct {
	AccountID   *int64  `json:"accountId"`
	ContactID   *int64  `json:"contactId"`
	Name        *string `json:"name"`
	Stage       *string `json:"stage"`
	Status      *string `json:"status"`
	AmountCents *int64  `json:"amountCents"`
	Currency    *string `json:"currency"`
	CloseDate   *string `json:"closeDate"`
}

// OpportunityResponse is an opportunity as the API shows it.
type OpportunityResponse struct {
	ID          int64     `json:"id"`
	OwnerID     int64     `json:"ownerId"`
	Version     int64     `json:"version"`
	AccountID   *int64    `json:"accountId"`
	ContactID   *int64    `json:"contactId"`
	Name        string    `json:"name"`
	Stage       string    `json:"stage"`
	Status      string    `json:"status"`
	AmountCents int64     `json:"amountCents"`
	Currency    string    `json:"currency"`
	CloseDate   *string   `json:"closeDate"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ToOpportunityResponse converts a stored opportunity.
func ToOpportunityResponse(o *models.Opportunity) OpportunityResponse {
	var cd *string
	if o.CloseDate != nil {
		s := o.CloseDate.UTC().Format("2006-01-02")
		cd = &s
	}
	return OpportunityResponse{ID: o.ID, OwnerID: o.OwnerID, Version: o.Version, AccountID: o.AccountID, ContactID: o.ContactID,
		Name: o.Name, Stage: o.Stage, Status: o.Status, AmountCents: o.AmountCents, Currency: o.Currency, CloseDate: cd,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func (r *OpportunityRequest) apply(f *panel.OpportunityFields) error {
	if r.AccountID != nil {
		f.AccountID = r.AccountID
	}
	if r.ContactID != nil {
		f.ContactID = r.ContactID
	}
	set(&f.Name, r.Name)
	set(&f.Stage, r.Stage)
	set(&f.Status, r.Status)
	set(&f.AmountCents, r.AmountCents)
	set(&f.Currency, r.Currency)
	if r.CloseDate != nil {
		t, err := time.Parse("2006-01-02", *r.CloseDate)
		if err != nil {
			return models.InvalidField("closeDate", "must be a date like 2026-12-31")
		}
		f.CloseDate = &t
	}
	return nil
}

// Records serves the CRUD endpoints of contacts, accounts, leads and
// opportunities.
type Records struct {
	Store *models.Store
	Panel *panel.Service
}

// Register mounts the routes.
func (h *Records) Register(authed *gin.RouterGroup) {
	authed.GET("/contacts", Tx(h.Store, lister(h.Panel.ListContacts, ToContactResponse)))
	authed.POST("/contacts", Tx(h.Store, h.createContact))
	authed.GET("/contacts/:id", Tx(h.Store, getter(h, panel.TypeContact, h.Panel.GetContact, ToContactResponse)))
	authed.PATCH("/contacts/:id", Tx(h.Store, updater(h.Panel.GetContact, contactFields, applyContactPatch, h.Panel.UpdateContact, ToContactResponse)))
	authed.DELETE("/contacts/:id", Tx(h.Store, h.deleter(panel.TypeContact)))

	authed.GET("/accounts", Tx(h.Store, lister(h.Panel.ListAccounts, ToAccountResponse)))
	authed.POST("/accounts", Tx(h.Store, h.createAccount))
	authed.GET("/accounts/:id", Tx(h.Store, getter(h, panel.TypeAccount, h.Panel.GetAccount, ToAccountResponse)))
	authed.PATCH("/accounts/:id", Tx(h.Store, updater(h.Panel.GetAccount, accountFields, noErr((*AccountRequest).apply), h.Panel.UpdateAccount, ToAccountResponse)))
	authed.DELETE("/accounts/:id", Tx(h.Store, h.deleter(panel.TypeAccount)))

	authed.GET("/leads", Tx(h.Store, lister(h.Panel.ListLeads, ToLeadResponse)))
	authed.POST("/leads", Tx(h.Store, h.createLead))
	authed.GET("/leads/:id", Tx(h.Store, getter(h, panel.TypeLead, h.Panel.GetLead, ToLeadResponse)))
	authed.PATCH("/leads/:id", Tx(h.Store, updater(h.Panel.GetLead, leadFields, noErr((*LeadRequest).apply), h.Panel.UpdateLead, ToLeadResponse)))
	authed.DELETE("/leads/:id", Tx(h.Store, h.deleter(panel.TypeLead)))

	authed.GET("/opportunities", Tx(h.Store, lister(h.Panel.ListOpportunities, ToOpportunityResponse)))
	authed.POST("/opportunities", Tx(h.Store, h.createOpportunity))
	authed.GET("/opportunities/:id", Tx(h.Store, getter(h, panel.TypeOpportunity, h.Panel.GetOpportunity, ToOpportunityResponse)))
	authed.PATCH("/opportunities/:id", Tx(h.Store, updater(h.Panel.GetOpportunity, opportunityFields, (*OpportunityRequest).apply, h.Panel.UpdateOpportunity, ToOpportunityResponse)))
	authed.DELETE("/opportunities/:id", Tx(h.Store, h.deleter(panel.TypeOpportunity)))
}

func actor(c *gin.Context) panel.Actor {
	p := Caller(c)
	return panel.Actor{UserID: p.UserID, Admin: p.IsAdmin()}
}

// PathID reads a positive integer path parameter.
func PathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.InvalidField(name, "must be a positive integer")
	}
	return id, nil
}

// ifMatch reads the If-Match header: a record version, bare or as an ETag.
// 0 means absent.
func ifMatch(c *gin.Context) (int64, error) {
	raw := strings.TrimSpace(c.GetHeader("If-Match"))
	if raw == "" || raw == "*" {
		return 0, nil
	}
	raw = strings.Trim(strings.TrimPrefix(raw, "W/"), `"`)
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v <= 0 {
		return 0, models.InvalidField("If-Match", "must be the record's version (its ETag)")
	}
	return v, nil
}

func etag(v int64) map[string]string {
	return map[string]string{"ETag": `"` + strconv.FormatInt(v, 10) + `"`}
}

func withETag(r Result, v int64) Result { r.Headers = etag(v); return r }

func queryID(c *gin.Context, name string) (*int64, error) {
	raw := c.Query(name)
	if raw == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, models.InvalidField(name, "must be a positive integer")
	}
	return &id, nil
}

// listFilter reads the common list query parameters.
func listFilter(c *gin.Context) (panel.ListFilter, error) {
	var f panel.ListFilter
	var err error
	if c.Query("owner") == "me" {
		uid := Caller(c).UserID
		f.OwnerID = &uid
	} else if c.Query("owner") != "" {
		return f, models.InvalidField("owner", "must be \"me\"")
	}
	if f.AccountID, err = queryID(c, "accountId"); err != nil {
		return f, err
	}
	if f.ContactID, err = queryID(c, "contactId"); err != nil {
		return f, err
	}
	f.Email = c.Query("email")
	if len(f.Email) > 254 {
		return f, models.InvalidField("email", "is too long")
	}
	f.Status = c.Query("status")
	if len(f.Status) > 20 {
		return f, models.InvalidField("status", "is too long")
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > panel.MaxListLimit {
			return f, models.InvalidField("limit", "must be between 1 and 100")
		}
		f.Limit = n
	}
	f.Cursor = c.Query("cursor")
	return f, nil
}

// ListResponse is one page of records.
type ListResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// crmRecord is a stored CRM record: its version is the ETag.
type crmRecord interface {
	models.Contact | models.Account | models.Lead | models.Opportunity
}

func versionOf(rec any) int64 {
	switch r := rec.(type) {
	case *models.Contact:
		return r.Version
	case *models.Account:
		return r.Version
	case *models.Lead:
		return r.Version
	case *models.Opportunity:
		return r.Version
	}
	return 0
}

// lister answers GET /{records} with the filters of listFilter and a cursor.
func lister[M crmRecord, R any](list func(context.Context, panel.ListFilter) (panel.Page[M], error), conv func(*M) R) func(*gin.Context, context.Context) (Result, error) {
	return func(c *gin.Context, ctx context.Context) (Result, error) {
		f, err := listFilter(c)
		if err != nil {
			return Result{}, err
		}
		p, err := list(ctx, f)
		if err != nil {
			return Result{}, err
		}
		return OK(ListResponse[R]{Items: convert(p.Items, conv), NextCursor: p.NextCursor}), nil
	}
}

// getter answers GET /{records}/{id} with the record and its ETag, and
// marks it viewed for Recent.
func getter[M crmRecord, R any](h *Records, objectType string, get func(context.Context, int64) (*M, error), conv func(*M) R) func(*gin.Context, context.Context) (Result, error) {
	return func(c *gin.Context, ctx context.Context) (Result, error) {
		id, err := PathID(c, "id")
		if err != nil {
			return Result{}, err
		}
		rec, err := get(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if err := h.Panel.Touch(ctx, Caller(c).UserID, objectType, id, panel.ActionViewed); err != nil {
			return Result{}, err
		}
		return withETag(OK(conv(rec)), versionOf(rec)), nil
	}
}

// updater answers PATCH /{records}/{id}: the request's fields over the
// stored ones, saved only when If-Match names the current version, and the
// record returned with its new ETag.
func updater[M crmRecord, Req any, F any, R any](
	get func(context.Context, int64) (*M, error),
	fieldsOf func(*M) F,
	apply func(*Req, *F) error,
	update func(context.Context, panel.Actor, int64, int64, F) (*M, error),
	conv func(*M) R,
) func(*gin.Context, context.Context) (Result, error) {
	return func(c *gin.Context, ctx context.Context) (Result, error) {
		id, err := PathID(c, "id")
		if err != nil {
			return Result{}, err
		}
		ver, err := ifMatch(c)
		if err != nil {
			return Result{}, err
		}
		var req Req
		if err := BindJSON(c, &req); err != nil {
			return Result{}, err
		}
		cur, err := get(ctx, id)
		if err != nil {
			return Result{}, err
		}
		f := fieldsOf(cur)
		if err := apply(&req, &f); err != nil {
			return Result{}, err
		}
		rec, err := update(ctx, actor(c), id, ver, f)
		if err != nil {
			return Result{}, err
		}
		return withETag(OK(conv(rec)), versionOf(rec)), nil
	}
}

// noErr adapts a request's apply that cannot fail.
func noErr[Req any, F any](apply func(*Req, *F)) func(*Req, *F) error {
	return func(r *Req, f *F) error { apply(r, f); return nil }
}

// applyContactPatch is ContactRequest.apply for updates, where a
// duplicate reason has no meaning.
func applyContactPatch(r *ContactRequest, f *panel.ContactFields) error {
	if r.DuplicateReason != nil {
		return models.InvalidField("duplicateReason", "only applies when creating a contact")
	}
	r.apply(f)
	return nil
}

func accountFields(a *models.Account) panel.AccountFields {
	return panel.AccountFields{Name: a.Name, Website: a.Website, Industry: a.Industry, Phone: a.Phone, Address: panel.AddressOf(a.Address)}
}

func leadFields(l *models.Lead) panel.LeadFields {
	return panel.LeadFields{AccountID: l.AccountID, ContactID: l.ContactID, Name: l.Name, Company: l.Company,
		Email: l.Email, Phone: l.Phone, Status: l.Status, Source: l.Source}
}

func opportunityFields(o *models.Opportunity) panel.OpportunityFields {
	return panel.OpportunityFields{AccountID: o.AccountID, ContactID: o.ContactID, Name: o.Name, Stage: o.Stage,
		Status: o.Status, AmountCents: o.AmountCents, Currency: o.Currency, CloseDate: o.CloseDate}
}

func convert[M any, R any](items []M, fn func(*M) R) []R {
	out := make([]R, len(items))
	for i := range items {
		out[i] = fn(&items[i])
	}
	return out
}

func (h *Records) createContact(c *gin.Context, ctx context.Context) (Result, error) {
	var req ContactRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	dup := panel.Duplicate{Allow: c.Query("allowDuplicate") == "true"}
	if v := c.Query("allowDuplicate"); v != "" && v != "true" && v != "false" {
		return Result{}, models.InvalidField("allowDuplicate", "must be true or false")
	}
	if req.DuplicateReason != nil {
		dup.Reason = *req.DuplicateReason
	}
	var f panel.ContactFields
	req.apply(&f)
	ct, err := h.Panel.CreateContact(ctx, actor(c), f, dup)
	if err != nil {
		return Result{}, err
	}
	return withETag(Created(ToContactResponse(ct)), ct.Version), nil
}

func (h *Records) deleter(objectType string) func(c *gin.Context, ctx context.Context) (Result, error) {
	return func(c *gin.Context, ctx context.Context) (Result, error) {
		id, err := PathID(c, "id")
		if err != nil {
			return Result{}, err
		}
		ver, err := ifMatch(c)
		if err != nil {
			return Result{}, err
		}
		if err := h.Panel.Delete(ctx, actor(c), objectType, id, ver); err != nil {
			return Result{}, err
		}
		return Result{Status: http.StatusNoContent}, nil
	}
}

func (h *Records) createAccount(c *gin.Context, ctx context.Context) (Result, error) {
	var req AccountRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	var f panel.AccountFields
	req.apply(&f)
	a, err := h.Panel.CreateAccount(ctx, actor(c), f)
	if err != nil {
		return Result{}, err
	}
	return withETag(Created(ToAccountResponse(a)), a.Version), nil
}

func (h *Records) createLead(c *gin.Context, ctx context.Context) (Result, error) {
	var req LeadRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	var f panel.LeadFields
	req.apply(&f)
	l, err := h.Panel.CreateLead(ctx, actor(c), f)
	if err != nil {
		return Result{}, err
	}
	return withETag(Created(ToLeadResponse(l)), l.Version), nil
}

func (h *Records) createOpportunity(c *gin.Context, ctx context.Context) (Result, error) {
	var req OpportunityRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	var f panel.OpportunityFields
	if err := req.apply(&f); err != nil {
		return Result{}, err
	}
	o, err := h.Panel.CreateOpportunity(ctx, actor(c), f)
	if err != nil {
		return Result{}, err
	}
	return withETag(Created(ToOpportunityResponse(o)), o.Version), nil
}
