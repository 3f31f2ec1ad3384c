package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/share"
	"github.com/salesbridge/salesbridge/models"
)

// Sharer is what the share handlers call (share.Service).
type Sharer interface {
	ShareEmail(ctx context.Context, userID int64, in share.EmailInput) (*share.Result, error)
	ShareAppointment(ctx context.Context, userID int64, in share.AppointmentInput) (*share.Result, error)
	Get(ctx context.Context, viewerID, id int64) (*share.View, error)
	List(ctx context.Context, viewerID int64, q share.ListQuery) (*share.Page, error)
	Patch(ctx context.Context, userID int64, admin bool, id int64, in share.PatchInput) (*share.View, error)
	ListTypes(ctx context.Context) ([]models.ActivityType, error)
	UpdateType(ctx context.Context, actorID int64, code string, in share.TypeUpdate) (*models.ActivityType, error)
	GetLayout(ctx context.Context, object string) (*share.Layout, error)
	Requirements(ctx context.Context, object string) (*share.Layout, bool, error)
	PutLayout(ctx context.Context, actorID int64, object string, fields []string) (*share.Layout, error)
}

var _ Sharer = (*share.Service)(nil)

// Share serves sharing emails and meetings, activities, activity types
// and share layouts.
type Share struct {
	Store   *models.Store
	Service Sharer
}

// Register mounts the routes.
func (h *Share) Register(authed, admin *gin.RouterGroup) {
	// Shares manage their own transactions: reading an item from the
	// mailbox must not hold a database transaction open.
	authed.POST("/shares/email", run(h.shareEmail))
	authed.POST("/shares/appointment", run(h.shareAppointment))
	authed.GET("/shares/requirements/:object", Tx(h.Store, h.requirements))
	authed.GET("/activities", Tx(h.Store, h.list))
	authed.GET("/activities/:id", Tx(h.Store, h.get))
	authed.PATCH("/activities/:id", Tx(h.Store, h.patch))
	admin.GET("/activity-types", Tx(h.Store, h.listTypes))
	admin.PATCH("/activity-types/:code", Tx(h.Store, h.patchType))
	admin.GET("/layouts/:object", Tx(h.Store, h.getLayout))
	admin.PUT("/layouts/:object", Tx(h.Store, h.putLayout))
}

// run is Tx without the surrounding transaction, for handlers whose
// service opens its own.
func run(fn func(c *gin.Context, ctx context.Context) (Result, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, err := fn(c, c.Request.Context())
		if err != nil {
			WriteError(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(res.Status, res.Body)
	}
}

// AddressJSON is an email address with its display name.
type AddressJSON struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// AssociationJSON names a CRM record.
type AssociationJSON struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// AttachmentJSON describes an attachment (its content is not stored).
type AttachmentJSON struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
}

// ShareEmailRequest is POST /shares/email. With only itemId the server
// reads the message from the mailbox.
type ShareEmailRequest struct {
	ItemID            string            `json:"itemId"`
	InternetMessageID string            `json:"internetMessageId"`
	ConversationID    string            `json:"conversationId"`
	Subject           string            `json:"subject"`
	Subtype           string            `json:"subtype"`
	Importance        string            `json:"importance"`
	From              *AddressJSON      `json:"from"`
	To                []AddressJSON     `json:"to"`
	Cc                []AddressJSON     `json:"cc"`
	SentAt            string            `json:"sentAt"`
	BodyHTML          string            `json:"bodyHtml"`
	BodyText          string            `json:"bodyText"`
	Associations      []AssociationJSON `json:"associations"`
	Attachments       []AttachmentJSON  `json:"attachments"`
	Source            string            `json:"source"`
}

// ShareAppointmentRequest is POST /shares/appointment.
type ShareAppointmentRequest struct {
	ItemID       string            `json:"itemId"`
	ICalUID      string            `json:"iCalUId"`
	Subject      string            `json:"subject"`
	Subtype      string            `json:"subtype"`
	Importance   string            `json:"importance"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
	TimeZone     string            `json:"timeZone"`
	IsAllDay     bool              `json:"isAllDay"`
	Location     string            `json:"location"`
	Organizer    *AddressJSON      `json:"organizer"`
	Attendees    []AddressJSON     `json:"attendees"`
	BodyHTML     string            `json:"bodyHtml"`
	BodyText     string            `json:"bodyText"`
	IsPrivate    bool              `json:"isPrivate"`
	Associations []AssociationJSON `json:"associations"`
	Attachments  []AttachmentJSON  `json:"attachments"`
	Source       string            `json:"source"`
}

// ParticipantResponse is a sender, recipient, organizer or attendee.
type ParticipantResponse struct {
	Role      string `json:"role"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	ContactID *int64 `json:"contactId"`
	UserID    *int64 `json:"userId"`
}

// ShareLinkResponse is one user's share of the item.
type ShareLinkResponse struct {
	UserID   int64     `json:"userId"`
	Source   string    `json:"source"`
	SharedAt time.Time `json:"sharedAt"`
}

// ActivityResponse is an activity as the API shows it.
type ActivityResponse struct {
	ID                int64                 `json:"id"`
	Type              string                `json:"type"`
	Subtype           string                `json:"subtype"`
	Subject           string                `json:"subject"`
	BodyHTML          string                `json:"bodyHtml"`
	BodyText          string                `json:"bodyText"`
	Start             *time.Time            `json:"start"`
	End               *time.Time            `json:"end"`
	TimeZone          string                `json:"timeZone"`
	AllDay            bool                  `json:"allDay"`
	Importance        string                `json:"importance"`
	Private           bool                  `json:"private"`
	Masked            bool                  `json:"masked"`
	Location          string                `json:"location"`
	InternetMessageID *string               `json:"internetMessageId"`
	ICalUID           *string               `json:"iCalUId"`
	ConversationID    string                `json:"conversationId"`
	OwnerID           int64                 `json:"ownerId"`
	Version           int64                 `json:"version"`
	CreatedAt         time.Time             `json:"createdAt"`
	UpdatedAt         time.Time             `json:"updatedAt"`
	Participants      []ParticipantResponse `json:"participants"`
	Associations      []AssociationJSON     `json:"associations"`
	SharedBy          []ShareLinkResponse   `json:"sharedBy"`
	Attachments       []AttachmentJSON      `json:"attachments"`
}

// ToActivityResponse converts a share view.
func ToActivityResponse(v *share.View) ActivityResponse {
	a := &v.Activity
	out := ActivityResponse{
		ID: a.ID, Type: a.TypeCode, Subtype: a.Subtype, Subject: a.Subject, BodyHTML: a.BodyHTML, BodyText: a.BodyText,
		Start: a.StartAt, End: a.EndAt, TimeZone: a.TimeZone, AllDay: a.AllDay, Importance: a.Importance,
		Private: a.Private, Masked: v.Masked, Location: a.Location, InternetMessageID: a.InternetMessageID, ICalUID: a.ICalUID,
		ConversationID: a.ConversationID, OwnerID: a.OwnerID, Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Participants: []ParticipantResponse{}, Associations: []AssociationJSON{}, SharedBy: []ShareLinkResponse{}, Attachments: []AttachmentJSON{},
	}
	for _, p := range v.Participants {
		out.Participants = append(out.Participants, ParticipantResponse{Role: p.Role, Email: p.Email, Name: p.Name, ContactID: p.ContactID, UserID: p.UserID})
	}
	for _, as := range v.Associations {
		out.Associations = append(out.Associations, AssociationJSON{Type: as.ObjectType, ID: as.ObjectID})
	}
	for _, sh := range v.Shares {
		out.SharedBy = append(out.SharedBy, ShareLinkResponse{UserID: sh.UserID, Source: sh.Source, SharedAt: sh.CreatedAt})
	}
	for _, at := range v.Attachments {
		out.Attachments = append(out.Attachments, AttachmentJSON(at))
	}
	return out
}

func toAddress(a *AddressJSON) *share.Address {
	if a == nil {
		return nil
	}
	return &share.Address{Email: a.Email, Name: a.Name}
}

func toAddresses(in []AddressJSON) []share.Address {
	out := make([]share.Address, len(in))
	for i, a := range in {
		out[i] = share.Address{Email: a.Email, Name: a.Name}
	}
	return out
}

func toAssociations(in []AssociationJSON) []share.Association {
	out := make([]share.Association, len(in))
	for i, a := range in {
		out[i] = share.Association{Type: a.Type, ID: a.ID}
	}
	return out
}

func toAttachments(in []AttachmentJSON) []share.Attachment {
	out := make([]share.Attachment, len(in))
	for i, a := range in {
		out[i] = share.Attachment(a)
	}
	return out
}

func parseTime(fields map[string]string, name, v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		fields[name] = "must be an RFC 3339 date-time"
		return nil
	}
	return &t
}

func checkSource(fields map[string]string, s string) string {
	switch s {
	case "", share.SourcePane:
		return share.SourcePane
	case share.SourceRibbon:
		return s
	}
	fields["source"] = "must be pane or ribbon"
	return ""
}

func shareResult(res *share.Result) Result {
	body := ToActivityResponse(res.Activity)
	if res.Created {
		return Result{Status: http.StatusCreated, Body: body, Headers: map[string]string{"Location": "/api/v1/activities/" + strconv.FormatInt(body.ID, 10)}}
	}
	return OK(body)
}

func (h *Share) shareEmail(c *gin.Context, ctx context.Context) (Result, error) {
	var req ShareEmailRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	fields := map[string]string{}
	in := share.EmailInput{
		ItemID: req.ItemID, InternetMessageID: req.InternetMessageID, ConversationID: req.ConversationID,
		Subject: req.Subject, Subtype: req.Subtype, Importance: req.Importance, From: toAddress(req.From),
		To: toAddresses(req.To), Cc: toAddresses(req.Cc), SentAt: parseTime(fields, "sentAt", req.SentAt),
		BodyHTML: req.BodyHTML, BodyText: req.BodyText, Associations: toAssociations(req.Associations),
		Attachments: toAttachments(req.Attachments), Source: checkSource(fields, req.Source),
	}
	if len(fields) > 0 {
		return Result{}, models.Invalid(fields)
	}
	res, err := h.Service.ShareEmail(ctx, Caller(c).UserID, in)
	if err != nil {
		return Result{}, err
	}
	return shareResult(res), nil
}

func (h *Share) shareAppointment(c *gin.Context, ctx context.Context) (Result, error) {
	var req ShareAppointmentRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	fields := map[string]string{}
	in := share.AppointmentInput{
		ItemID: req.ItemID, ICalUID: req.ICalUID, Subject: req.Subject, Subtype: req.Subtype, Importance: req.Importance,
		Start: parseTime(fields, "start", req.Start), End: parseTime(fields, "end", req.End), TimeZone: req.TimeZone,
		AllDay: req.IsAllDay, Location: req.Location, Organizer: toAddress(req.Organizer), Attendees: toAddresses(req.Attendees),
		BodyHTML: req.BodyHTML, BodyText: req.BodyText, IsPrivate: req.IsPrivate, Associations: toAssociations(req.Associations),
		Attachments: toAttachments(req.Attachments), Source: checkSource(fields, req.Source),
	}
	if len(fields) > 0 {
		return Result{}, models.Invalid(fields)
	}
	res, err := h.Service.ShareAppointment(ctx, Caller(c).UserID, in)
	if err != nil {
		return Result{}, err
	}
	return shareResult(res), nil
}

func activityPathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.InvalidField("id", "must be a positive integer")
	}
	return id, nil
}

// ActivityPage is GET /activities.
type ActivityPage struct {
	Items      []ActivityResponse `json:"items"`
	NextCursor string             `json:"nextCursor,omitempty"`
}

func (h *Share) list(c *gin.Context, ctx context.Context) (Result, error) {
	q := share.ListQuery{Type: c.Query("type"), RelatedType: c.Query("relatedType"), Cursor: c.Query("cursor")}
	fields := map[string]string{}
	if v := c.Query("relatedId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			fields["relatedId"] = "must be a positive integer"
		}
		q.RelatedID = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fields["limit"] = "must be an integer"
		}
		q.Limit = n
	}
	if len(q.Type) > 50 {
		fields["type"] = "is not an activity type code"
	}
	if len(fields) > 0 {
		return Result{}, models.Invalid(fields)
	}
	p, err := h.Service.List(ctx, Caller(c).UserID, q)
	if err != nil {
		return Result{}, err
	}
	out := ActivityPage{Items: make([]ActivityResponse, 0, len(p.Items)), NextCursor: p.NextCursor}
	for _, v := range p.Items {
		out.Items = append(out.Items, ToActivityResponse(v))
	}
	return OK(out), nil
}

func (h *Share) get(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := activityPathID(c)
	if err != nil {
		return Result{}, err
	}
	v, err := h.Service.Get(ctx, Caller(c).UserID, id)
	if err != nil {
		return Result{}, err
	}
	return OK(ToActivityResponse(v)), nil
}

// PatchActivityRequest is PATCH /activities/{id}; associations, when
// present, replace the set.
type PatchActivityRequest struct {
	Subject      *string            `json:"subject"`
	Subtype      *string            `json:"subtype"`
	Importance   *string            `json:"importance"`
	Associations *[]AssociationJSON `json:"associations"`
}

func (h *Share) patch(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := activityPathID(c)
	if err != nil {
		return Result{}, err
	}
	var req PatchActivityRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	in := share.PatchInput{Subject: req.Subject, Subtype: req.Subtype, Importance: req.Importance}
	if req.Associations != nil {
		a := toAssociations(*req.Associations)
		in.Associations = &a
	}
	p := Caller(c)
	v, err := h.Service.Patch(ctx, p.UserID, p.IsAdmin(), id, in)
	if err != nil {
		return Result{}, err
	}
	return OK(ToActivityResponse(v)), nil
}

// ActivityTypeResponse is an activity type.
type ActivityTypeResponse struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Enabled   bool      `json:"enabled"`
	Subtypes  []string  `json:"subtypes"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ToActivityTypeResponse converts a stored type.
func ToActivityTypeResponse(t *models.ActivityType) ActivityTypeResponse {
	return ActivityTypeResponse{Code: t.Code, Name: t.Name, Enabled: t.Enabled, Subtypes: share.Subtypes(t), UpdatedAt: t.UpdatedAt}
}

// ActivityTypeList is GET /admin/activity-types.
type ActivityTypeList struct {
	Items []ActivityTypeResponse `json:"items"`
}

func (h *Share) listTypes(c *gin.Context, ctx context.Context) (Result, error) {
	ts, err := h.Service.ListTypes(ctx)
	if err != nil {
		return Result{}, err
	}
	out := ActivityTypeList{Items: make([]ActivityTypeResponse, 0, len(ts))}
	for i := range ts {
		out.Items = append(out.Items, ToActivityTypeResponse(&ts[i]))
	}
	return OK(out), nil
}

// PatchActivityTypeRequest is PATCH /admin/activity-types/{code}.
type PatchActivityTypeRequest struct {
	Name     *string   `json:"name"`
	Enabled  *bool     `json:"enabled"`
	Subtypes *[]string `json:"subtypes"`
}

func (h *Share) patchType(c *gin.Context, ctx context.Context) (Result, error) {
	var req PatchActivityTypeRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	t, err := h.Service.UpdateType(ctx, Caller(c).UserID, strings.ToUpper(c.Param("code")), share.TypeUpdate(req))
	if err != nil {
		return Result{}, err
	}
	return OK(ToActivityTypeResponse(t)), nil
}

// LayoutResponse is the mandatory fields of shared emails or appointments.
type LayoutResponse struct {
	Object          string   `json:"object"`
	MandatoryFields []string `json:"mandatoryFields"`
	AvailableFields []string `json:"availableFields"`
}

// PutLayoutRequest is PUT /admin/layouts/{object}.
type PutLayoutRequest struct {
	MandatoryFields []string `json:"mandatoryFields"`
}

func toLayoutResponse(l *share.Layout) LayoutResponse {
	return LayoutResponse{Object: l.Object, MandatoryFields: l.MandatoryFields, AvailableFields: l.Available}
}

func (h *Share) getLayout(c *gin.Context, ctx context.Context) (Result, error) {
	l, err := h.Service.GetLayout(ctx, c.Param("object"))
	if err != nil {
		return Result{}, err
	}
	return OK(toLayoutResponse(l)), nil
}

func (h *Share) putLayout(c *gin.Context, ctx context.Context) (Result, error) {
	var req PutLayoutRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if req.MandatoryFields == nil {
		return Result{}, models.InvalidField("mandatoryFields", "is required (an empty list clears it)")
	}
	l, err := h.Service.PutLayout(ctx, Caller(c).UserID, c.Param("object"), req.MandatoryFields)
	if err != nil {
		return Result{}, err
	}
	return OK(toLayoutResponse(l)), nil
}

// ShareRequirementsResponse is what the pane must ask for before sharing.
type ShareRequirementsResponse struct {
	Object              string   `json:"object"`
	AdvancedSharingMode bool     `json:"advancedSharingMode"`
	MandatoryFields     []string `json:"mandatoryFields"`
}

func (h *Share) requirements(c *gin.Context, ctx context.Context) (Result, error) {
	l, on, err := h.Service.Requirements(ctx, c.Param("object"))
	if err != nil {
		return Result{}, err
	}
	return OK(ShareRequirementsResponse{Object: l.Object, AdvancedSharingMode: on, MandatoryFields: l.MandatoryFields}), nil
}
