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

// Panel serves the side panel's read endpoints: context, search, recent,
// favorites, connections and address formats.
type Panel struct {
	Store *models.Store
	Panel *panel.Service
}

// Register mounts the routes.
func (h *Panel) Register(authed *gin.RouterGroup) {
	authed.GET("/context", Tx(h.Store, h.context))
	authed.GET("/search", Tx(h.Store, h.search))
	authed.GET("/recent", Tx(h.Store, h.recent))
	authed.GET("/favorites", Tx(h.Store, h.favorites))
	authed.PUT("/favorites/:type/:id", Tx(h.Store, h.addFavorite))
	authed.DELETE("/favorites/:type/:id", Tx(h.Store, h.removeFavorite))
	authed.GET("/contacts/:id/connections", Tx(h.Store, h.connections))
	authed.GET("/address-formats", h.countries)
	authed.GET("/address-formats/:cc", h.addressFormat)
}

// RecordRef is a short reference to a record.
type RecordRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// OpportunityList is a capped list with the full count.
type OpportunityList struct {
	Items []OpportunityResponse `json:"items"`
	Total int                   `json:"total"`
}

// LeadList is a capped list with the full count.
type LeadList struct {
	Items []LeadResponse `json:"items"`
	Total int            `json:"total"`
}

// ActivitySummary is an activity in a context entry.
type ActivitySummary struct {
	ID      int64     `json:"id"`
	Type    string    `json:"type"`
	Subject string    `json:"subject"`
	At      time.Time `json:"at"`
	OwnerID int64     `json:"ownerId"`
}

// ContextEntryResponse is the context of one address.
type ContextEntryResponse struct {
	Email          string            `json:"email"`
	Kind           string            `json:"kind"`
	Contact        *ContactResponse  `json:"contact,omitempty"`
	User           *UserResponse     `json:"user,omitempty"`
	Account        *AccountResponse  `json:"account,omitempty"`
	Opportunities  OpportunityList   `json:"opportunities"`
	Leads          LeadList          `json:"leads"`
	LastActivities []ActivitySummary `json:"lastActivities"`
	SuggestedName  string            `json:"suggestedName,omitempty"`
}

// SharedResponse says as which activity an item was shared.
type SharedResponse struct {
	ActivityID int64  `json:"activityId"`
	Type       string `json:"type"`
}

// ContextResponse is GET /context.
type ContextResponse struct {
	Addresses []ContextEntryResponse `json:"addresses"`
	Shared    *SharedResponse        `json:"shared,omitempty"`
}

func toContextResponse(r *panel.ContextResult) ContextResponse {
	out := ContextResponse{Addresses: make([]ContextEntryResponse, len(r.Entries))}
	for i, e := range r.Entries {
		ce := ContextEntryResponse{Email: e.Email, Kind: e.Kind, SuggestedName: e.SuggestedName,
			Opportunities:  OpportunityList{Items: convert(e.Opportunities, ToOpportunityResponse), Total: e.OpportunitiesTotal},
			Leads:          LeadList{Items: convert(e.Leads, ToLeadResponse), Total: e.LeadsTotal},
			LastActivities: []ActivitySummary{}}
		if e.Contact != nil {
			c := ToContactResponse(e.Contact)
			ce.Contact = &c
		}
		if e.User != nil {
			u := ToUserResponse(e.User)
			ce.User = &u
		}
		if e.Account != nil {
			a := ToAccountResponse(e.Account)
			ce.Account = &a
		}
		for _, a := range e.LastActivities {
			at := a.CreatedAt
			if a.StartAt != nil {
				at = *a.StartAt
			}
			ce.LastActivities = append(ce.LastActivities, ActivitySummary{ID: a.ID, Type: a.TypeCode, Subject: a.Subject, At: at, OwnerID: a.OwnerID})
		}
		out.Addresses[i] = ce
	}
	if r.Shared != nil {
		out.Shared = &SharedResponse{ActivityID: r.Shared.ActivityID, Type: r.Shared.Type}
	}
	return out
}

func (h *Panel) context(c *gin.Context, ctx context.Context) (Result, error) {
	res, err := h.Panel.Context(ctx, panel.ContextRequest{
		UserID:            Caller(c).UserID,
		Addresses:         c.QueryArray("email"),
		InternetMessageID: c.Query("internetMessageId"),
		ICalUID:           c.Query("iCalUId"),
	})
	if err != nil {
		return Result{}, err
	}
	return OK(toContextResponse(res)), nil
}

// SearchHit is one search result.
type SearchHit struct {
	Type    string `json:"type"`
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	OwnerID int64  `json:"ownerId"`
	Match   string `json:"match"`
	Owned   bool   `json:"owned"`
	Recent  bool   `json:"recent"`
}

// SearchResponse is GET /search.
type SearchResponse struct {
	Items      []SearchHit `json:"items"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

func (h *Panel) search(c *gin.Context, ctx context.Context) (Result, error) {
	req := panel.SearchRequest{UserID: Caller(c).UserID, Query: c.Query("q"), Cursor: c.Query("cursor"), Region: strings.ToUpper(c.Query("region"))}
	if t := c.Query("types"); t != "" {
		req.Types = strings.Split(t, ",")
	}
	if len(req.Region) > 2 {
		return Result{}, models.InvalidField("region", "must be an ISO 3166-1 alpha-2 code")
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return Result{}, models.InvalidField("limit", "must be a positive integer")
		}
		req.Limit = n
	}
	res, err := h.Panel.Search(ctx, req)
	if err != nil {
		return Result{}, err
	}
	out := SearchResponse{Items: []SearchHit{}, NextCursor: res.NextCursor}
	for _, hit := range res.Hits {
		out.Items = append(out.Items, SearchHit{Type: hit.Type, ID: hit.ID, Name: hit.Name, OwnerID: hit.OwnerID, Match: hit.Match, Owned: hit.Owned, Recent: hit.Recent})
	}
	return OK(out), nil
}

// RecentItemResponse is one record of the Recent list.
type RecentItemResponse struct {
	Type   string    `json:"type"`
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
}

// RecentResponse is GET /recent.
type RecentResponse struct {
	Items      []RecentItemResponse `json:"items"`
	NextCursor string               `json:"nextCursor,omitempty"`
}

func (h *Panel) recent(c *gin.Context, ctx context.Context) (Result, error) {
	p, err := h.Panel.Recent(ctx, Caller(c).UserID, c.Query("type"), c.Query("cursor"))
	if err != nil {
		return Result{}, err
	}
	out := RecentResponse{Items: []RecentItemResponse{}, NextCursor: p.NextCursor}
	for _, it := range p.Items {
		out.Items = append(out.Items, RecentItemResponse{Type: it.Type, ID: it.ID, Name: it.Name, Action: it.Action, At: it.At})
	}
	return OK(out), nil
}

// FavoriteResponse is one starred record.
type FavoriteResponse struct {
	Type      string    `json:"type"`
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// FavoritesResponse is GET /favorites.
type FavoritesResponse struct {
	Items []FavoriteResponse `json:"items"`
}

func (h *Panel) favorites(c *gin.Context, ctx context.Context) (Result, error) {
	items, err := h.Panel.Favorites(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	out := FavoritesResponse{Items: []FavoriteResponse{}}
	for _, f := range items {
		out.Items = append(out.Items, FavoriteResponse{Type: f.Type, ID: f.ID, Name: f.Name, CreatedAt: f.CreatedAt})
	}
	return OK(out), nil
}

func (h *Panel) addFavorite(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := PathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	if err := h.Panel.AddFavorite(ctx, Caller(c).UserID, c.Param("type"), id); err != nil {
		return Result{}, err
	}
	return Result{Status: http.StatusNoContent}, nil
}

func (h *Panel) removeFavorite(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := PathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	if err := h.Panel.RemoveFavorite(ctx, Caller(c).UserID, c.Param("type"), id); err != nil {
		return Result{}, err
	}
	return Result{Status: http.StatusNoContent}, nil
}

// ConnectionResponse is a sales user who works with a contact.
type ConnectionResponse struct {
	User            UserResponse `json:"user"`
	Count           int          `json:"count"`
	Score           float64      `json:"score"`
	LastInteraction time.Time    `json:"lastInteraction"`
}

// ConnectionsResponse is GET /contacts/{id}/connections.
type ConnectionsResponse struct {
	Items []ConnectionResponse `json:"items"`
}

func (h *Panel) connections(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := PathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	limit := 5
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 50 {
			return Result{}, models.InvalidField("limit", "must be between 1 and 50")
		}
		limit = n
	}
	conns, err := h.Panel.Connections(ctx, id, limit)
	if err != nil {
		return Result{}, err
	}
	out := ConnectionsResponse{Items: []ConnectionResponse{}}
	for _, cn := range conns {
		out.Items = append(out.Items, ConnectionResponse{User: ToUserResponse(&cn.User), Count: cn.Count, Score: cn.Score, LastInteraction: cn.LastInteraction})
	}
	return OK(out), nil
}

// CountriesResponse is GET /address-formats.
type CountriesResponse struct {
	Countries []address.Country `json:"countries"`
}

func (h *Panel) countries(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.JSON(http.StatusOK, CountriesResponse{Countries: address.Countries()})
}

// AddressFormatResponse is GET /address-formats/{cc}.
type AddressFormatResponse struct {
	Country        string          `json:"country"`
	Name           string          `json:"name"`
	Fields         []address.Field `json:"fields"`
	PostalPattern  string          `json:"postalPattern,omitempty"`
	PostalExamples []string        `json:"postalExamples"`
	Regions        []RegionOption  `json:"regions"`
}

// RegionOption is a region a country's form offers.
type RegionOption struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

func (h *Panel) addressFormat(c *gin.Context) {
	cc := c.Param("cc")
	if len(cc) != 2 {
		WriteError(c, models.InvalidField("cc", "must be an ISO 3166-1 alpha-2 country code"))
		return
	}
	f, ok := address.Lookup(cc)
	if !ok {
		WriteError(c, models.NotFound("country"))
		return
	}
	out := AddressFormatResponse{Country: f.Country, Name: f.Name, Fields: f.Fields, PostalPattern: f.PostalPattern,
		PostalExamples: f.PostalExamples, Regions: []RegionOption{}}
	if out.PostalExamples == nil {
		out.PostalExamples = []string{}
	}
	for _, r := range f.Regions {
		out.Regions = append(out.Regions, RegionOption{Key: r.Key, Name: r.Name})
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.JSON(http.StatusOK, out)
}
