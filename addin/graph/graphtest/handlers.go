package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/salesbridge/salesbridge/addin/graph/internal/wintz"
)

func init() {
	addRoute("GET", "/me", handleMe)

	addRoute("GET", "/me/contacts/delta", deltaHandler(Contacts))
	addRoute("GET", "/me/contactFolders/{folder}/contacts/delta", deltaHandler(Contacts))
	addRoute("GET", "/me/contacts", listHandler(Contacts))
	addRoute("GET", "/me/contactFolders/{folder}/contacts", listHandler(Contacts))
	addRoute("POST", "/me/contacts", createHandler(Contacts))
	addRoute("POST", "/me/contactFolders/{folder}/contacts", createHandler(Contacts))
	addRoute("GET", "/me/contacts/{id}", getHandler(Contacts))
	addRoute("PATCH", "/me/contacts/{id}", patchHandler(Contacts))
	addRoute("DELETE", "/me/contacts/{id}", deleteHandler(Contacts))

	addRoute("GET", "/me/calendarView/delta", deltaHandler(Events))
	addRoute("GET", "/me/events", listHandler(Events))
	addRoute("POST", "/me/events", createHandler(Events))
	addRoute("GET", "/me/events/{id}", getHandler(Events))
	addRoute("PATCH", "/me/events/{id}", patchHandler(Events))
	addRoute("DELETE", "/me/events/{id}", deleteHandler(Events))

	addRoute("GET", "/me/todo/lists", handleLists)
	addRoute("POST", "/me/todo/lists", handleCreateList)
	addRoute("GET", "/me/todo/lists/{list}", handleGetList)
	addRoute("GET", "/me/todo/lists/{list}/tasks/delta", deltaHandler(Tasks))
	addRoute("GET", "/me/todo/lists/{list}/tasks", listHandler(Tasks))
	addRoute("POST", "/me/todo/lists/{list}/tasks", createHandler(Tasks))
	addRoute("GET", "/me/todo/lists/{list}/tasks/{id}", getHandler(Tasks))
	addRoute("PATCH", "/me/todo/lists/{list}/tasks/{id}", patchHandler(Tasks))
	addRoute("DELETE", "/me/todo/lists/{list}/tasks/{id}", deleteHandler(Tasks))

	addRoute("GET", "/me/messages", listHandler(Messages))
	addRoute("GET", "/me/messages/{id}", getHandler(Messages))
	addRoute("PATCH", "/me/messages/{id}", patchHandler(Messages))

	addRoute("GET", "/me/outlook/masterCategories", handleListCategories)
	addRoute("POST", "/me/outlook/masterCategories", handleCreateCategory)
	addRoute("DELETE", "/me/outlook/masterCategories/{id}", handleDeleteCategory)

	addRoute("POST", "/$batch", handleBatch)
}

type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

func badRequest(msg string) error {
	return &httpError{status: http.StatusBadRequest, code: "ErrorInvalidRequest", message: msg}
}

func (c *reqCtx) fail(w http.ResponseWriter, err error) {
	if he, ok := err.(*httpError); ok {
		writeError(w, c.s.now(), he.status, he.code, he.message)
		return
	}
	writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", err.Error())
}

func (c *reqCtx) notFound(w http.ResponseWriter) {
	writeError(w, c.s.now(), http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func (c *reqCtx) context(suffix string) string {
	return c.base() + "/$metadata#users('" + c.m.userID + "')/" + suffix
}

// --- property validation -----------------------------------------------------

// Writable properties per kind, with their JSON kind (s string, b bool,
// n number, a array, o object); null is accepted for all. Graph rejects
// unknown properties with 400, and so does the fake, which catches typos in
// the client's JSON tags.
var writable = map[Kind]map[string]byte{
	Contacts: {
		"givenName": 's', "surname": 's', "middleName": 's', "displayName": 's', "nickName": 's', "title": 's',
		"jobTitle": 's', "companyName": 's', "department": 's', "officeLocation": 's', "profession": 's',
		"emailAddresses": 'a', "businessPhones": 'a', "homePhones": 'a', "mobilePhone": 's',
		"businessAddress": 'o', "homeAddress": 'o', "otherAddress": 'o', "personalNotes": 's', "birthday": 's',
		"categories": 'a', "fileAs": 's', "initials": 's', "generation": 's', "spouseName": 's', "children": 'a',
		"imAddresses": 'a', "manager": 's', "assistantName": 's', "businessHomePage": 's',
		"yomiGivenName": 's', "yomiSurname": 's', "yomiCompanyName": 's', "singleValueExtendedProperties": 'a',
	},
	Events: {
		"subject": 's', "body": 'o', "start": 'o', "end": 'o', "location": 'o', "locations": 'a', "attendees": 'a',
		"isAllDay": 'b', "sensitivity": 's', "showAs": 's', "importance": 's', "categories": 'a',
		"isReminderOn": 'b', "reminderMinutesBeforeStart": 'n', "responseRequested": 'b', "transactionId": 's',
		"recurrence": 'o', "allowNewTimeProposals": 'b', "hideAttendees": 'b', "isOnlineMeeting": 'b',
		"onlineMeetingProvider": 's', "singleValueExtendedProperties": 'a',
	},
	Tasks: {
		"title": 's', "body": 'o', "importance": 's', "status": 's', "categories": 'a', "dueDateTime": 'o',
		"startDateTime": 'o', "completedDateTime": 'o', "reminderDateTime": 'o', "isReminderOn": 'b',
		"linkedResources": 'a', "recurrence": 'o',
	},
	Messages: {
		"categories": 'a', "isRead": 'b', "flag": 'o', "importance": 's', "inferenceClassification": 's',
		"singleValueExtendedProperties": 'a',
	},
}

// readOnly properties are accepted in a body (a client may echo them) but
// ignored, as Graph ignores them.
var readOnly = map[Kind]map[string]bool{
	Events: {"iCalUId": true, "isOrganizer": true, "organizer": true, "responseStatus": true, "type": true,
		"seriesMasterId": true, "webLink": true, "bodyPreview": true, "hasAttachments": true, "isCancelled": true,
		"isDraft": true, "originalStartTimeZone": true, "originalEndTimeZone": true, "onlineMeeting": true,
		"onlineMeetingUrl": true},
	Tasks:    {"bodyLastModifiedDateTime": true, "hasAttachments": true},
	Contacts: {},
	Messages: {},
}

var enumValues = map[string]map[string]bool{
	"sensitivity": {"normal": true, "personal": true, "private": true, "confidential": true},
	"importance":  {"low": true, "normal": true, "high": true},
	"showAs":      {"free": true, "tentative": true, "busy": true, "oof": true, "workingElsewhere": true, "unknown": true},
	"status":      {"notStarted": true, "inProgress": true, "completed": true, "waitingOnOthers": true, "deferred": true},
}

func jsonKind(v any) byte {
	switch v.(type) {
	case string:
		return 's'
	case bool:
		return 'b'
	case float64:
		return 'n'
	case []any:
		return 'a'
	case map[string]any:
		return 'o'
	}
	return 0
}

// validate checks a request body and returns the properties to apply.
func validate(kind Kind, body []byte) (map[string]any, error) {
	var data map[string]any
	if err := json.Unmarshal(body, &data); err != nil || data == nil {
		return nil, &httpError{status: 400, code: "RequestBodyRead", message: "The request body is not a JSON object."}
	}
	out := map[string]any{}
	for k, v := range data {
		if serverManaged[k] || readOnly[kind][k] {
			continue
		}
		want, ok := writable[kind][k]
		if !ok {
			return nil, &httpError{status: 400, code: "RequestBodyRead",
				message: fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.%s'.", k, singular(kind))}
		}
		if v != nil && jsonKind(v) != want {
			return nil, &httpError{status: 400, code: "RequestBodyRead",
				message: fmt.Sprintf("Property '%s' has the wrong JSON type.", k)}
		}
		if s, ok := v.(string); ok && enumValues[k] != nil && !enumValues[k][s] {
			return nil, &httpError{status: 400, code: "RequestBodyRead", message: fmt.Sprintf("Invalid value '%s' for '%s'.", s, k)}
		}
		if k == "categories" {
			for _, c := range v.([]any) {
				if _, ok := c.(string); !ok {
					return nil, badRequest("categories must be strings")
				}
			}
		}
		out[k] = v
	}
	return out, nil
}

func singular(k Kind) string {
	switch k {
	case Contacts:
		return "contact"
	case Events:
		return "event"
	case Tasks:
		return "todoTask"
	}
	return "message"
}

// --- handlers ----------------------------------------------------------------

func handleMe(c *reqCtx, w http.ResponseWriter) {
	given, sur, _ := strings.Cut(c.m.displayName, " ")
	writeJSON(w, 200, map[string]any{
		"businessPhones": []any{}, "displayName": c.m.displayName, "givenName": given, "surname": sur,
		"jobTitle": nil, "mail": c.m.address, "mobilePhone": nil, "officeLocation": nil,
		"preferredLanguage": nil, "userPrincipalName": c.m.address, "id": c.m.userID,
	})
}

// coll resolves the collection of a request (folder or list).
func (c *reqCtx) coll(kind Kind) (string, bool) {
	switch kind {
	case Contacts:
		f, ok := c.params["folder"]
		if !ok || strings.EqualFold(f, "contacts") || f == c.m.folderID {
			return c.m.folderID, true
		}
		return "", false
	case Tasks:
		l := c.params["list"]
		return l, c.m.list(l) != nil
	}
	return "", true
}

func (c *reqCtx) renderOpts() (renderOpts, error) {
	var o renderOpts
	if sel := c.query.Get("$select"); sel != "" {
		o.sel = map[string]bool{}
		for _, f := range strings.Split(sel, ",") {
			o.sel[strings.TrimSpace(f)] = true
		}
	}
	exp, err := parseExpand(c.query.Get("$expand"))
	if err != nil {
		return o, badRequest(err.Error())
	}
	o.expand = exp
	if tz, ok := prefer(c.header, "outlook.timezone"); ok {
		loc, err := wintz.Location(tz)
		if err == nil {
			o.tz, o.tzName = loc, tz
		}
	}
	return o, nil
}

func (c *reqCtx) pageSize() int {
	n := c.s.pageSize
	if v, ok := prefer(c.header, "odata.maxpagesize"); ok {
		if p, err := strconv.Atoi(v); err == nil && p > 0 {
			n = p
		}
	}
	if t := c.query.Get("$top"); t != "" {
		if p, err := strconv.Atoi(t); err == nil && p > 0 {
			n = p
		}
	}
	if n > 1000 {
		n = 1000
	}
	return n
}

func listHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		coll, ok := c.coll(kind)
		if !ok {
			c.notFound(w)
			return
		}
		o, err := c.renderOpts()
		if err != nil {
			c.fail(w, err)
			return
		}
		pred, err := parseFilter(c.query.Get("$filter"))
		if err != nil {
			c.fail(w, badRequest(err.Error()))
			return
		}
		var matched []*record
		for _, r := range c.m.liveList(kind, coll) {
			if pred(c.m.render(r, renderOpts{allProps: true})) {
				matched = append(matched, r)
			}
		}
		skip, _ := strconv.Atoi(c.query.Get("$skip"))
		if skip > len(matched) {
			skip = len(matched)
		}
		size := c.pageSize()
		end := skip + size
		if end > len(matched) {
			end = len(matched)
		}
		value := make([]any, 0, end-skip)
		for _, r := range matched[skip:end] {
			value = append(value, c.m.render(r, o))
		}
		resp := map[string]any{"@odata.context": c.context(string(kind)), "value": value}
		if end < len(matched) {
			q := c.query
			q.Set("$skip", strconv.Itoa(end))
			q.Set("$top", strconv.Itoa(size))
			resp["@odata.nextLink"] = c.base() + c.path + "?" + encodeQuery(q)
		}
		writeJSON(w, 200, resp)
	}
}

func getHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		r, ok := c.m.live(kind, c.params["id"])
		if !ok || (kind == Tasks && r.coll != c.params["list"]) {
			c.notFound(w)
			return
		}
		o, err := c.renderOpts()
		if err != nil {
			c.fail(w, err)
			return
		}
		out := c.m.render(r, o)
		out["@odata.context"] = c.context(string(kind) + "/$entity")
		writeJSON(w, 200, out)
	}
}

func createHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		data, err := validate(kind, c.body)
		if err != nil {
			c.fail(w, err)
			return
		}
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		coll, ok := c.coll(kind)
		if !ok {
			c.notFound(w)
			return
		}
		if kind == Tasks {
			if t, _ := data["title"].(string); t == "" {
				c.fail(w, badRequest("A task needs a title."))
				return
			}
		}
		// A repeated transactionId returns the event already created, which
		// makes event creation safe to retry (event-create-request.json).
		if tid, _ := data["transactionId"].(string); kind == Events && tid != "" {
			for _, r := range c.m.liveList(Events, "") {
				if r.data["transactionId"] == tid {
					c.respondItem(w, http.StatusCreated, r)
					return
				}
			}
		}
		if kind == Events {
			data["isOrganizer"] = true
			delete(data, "organizer")
		}
		r, err := c.m.create(kind, coll, data)
		if err != nil {
			c.fail(w, err)
			return
		}
		c.s.count(c.m.id, func(st *mailboxStats) {
			st.Writes++
			if kind == Events && hasAttendees(r) {
				st.MeetingMessages++
			}
		})
		c.respondItem(w, http.StatusCreated, r)
	}
}

func (c *reqCtx) respondItem(w http.ResponseWriter, status int, r *record) {
	o, err := c.renderOpts()
	if err != nil {
		c.fail(w, err)
		return
	}
	out := c.m.render(r, o)
	out["@odata.context"] = c.context(string(r.kind) + "/$entity")
	writeJSON(w, status, out)
}

// checkIfMatch answers 412 when the client's etag is stale. Graph accepts
// the weak etag form; "*" matches anything.
func (c *reqCtx) checkIfMatch(w http.ResponseWriter, r *record) bool {
	im := strings.TrimSpace(c.header.Get("If-Match"))
	if im == "" || im == "*" || im == etag(r.changeKey) || strings.Trim(im, `"`) == r.changeKey {
		return true
	}
	writeError(w, c.s.now(), http.StatusPreconditionFailed, "ErrorIrresolvableConflict",
		"The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
	return false
}

func patchHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		data, err := validate(kind, c.body)
		if err != nil {
			c.fail(w, err)
			return
		}
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		r, ok := c.m.live(kind, c.params["id"])
		if !ok || (kind == Tasks && r.coll != c.params["list"]) {
			c.notFound(w)
			return
		}
		if !c.checkIfMatch(w, r) {
			return
		}
		before := *r
		if err := c.m.update(r, data); err != nil {
			c.fail(w, err)
			return
		}
		c.s.count(c.m.id, func(st *mailboxStats) {
			st.Writes++
			if kind == Events && r.data["isOrganizer"] == true && (hasAttendees(r) || hasAttendees(&before)) &&
				meetingRelevant(&before, r) {
				st.MeetingMessages++
			}
		})
		c.respondItem(w, http.StatusOK, r)
	}
}

func deleteHandler(kind Kind) func(*reqCtx, http.ResponseWriter) {
	return func(c *reqCtx, w http.ResponseWriter) {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		r, ok := c.m.live(kind, c.params["id"])
		if !ok || (kind == Tasks && r.coll != c.params["list"]) {
			c.notFound(w)
			return
		}
		if !c.checkIfMatch(w, r) {
			return
		}
		c.m.remove(r)
		c.s.count(c.m.id, func(st *mailboxStats) {
			st.Writes++
			if kind == Events && r.data["isOrganizer"] == true && hasAttendees(r) {
				st.MeetingCancellations++
			}
		})
		w.WriteHeader(http.StatusNoContent)
	}
}

// --- To Do lists -------------------------------------------------------------

func renderList(l *taskList) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.todoTaskList", "id": l.id, "displayName": l.name,
		"isOwner": true, "isShared": false, "wellknownListName": l.wellknown}
}

func handleLists(c *reqCtx, w http.ResponseWriter) {
	pred, err := parseFilter(c.query.Get("$filter"))
	if err != nil {
		c.fail(w, badRequest(err.Error()))
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	value := []any{}
	for _, l := range c.m.lists {
		if r := renderList(l); pred(r) {
			value = append(value, r)
		}
	}
	writeJSON(w, 200, map[string]any{"@odata.context": c.context("todo/lists"), "value": value})
}

func handleGetList(c *reqCtx, w http.ResponseWriter) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	l := c.m.list(c.params["list"])
	if l == nil {
		c.notFound(w)
		return
	}
	writeJSON(w, 200, renderList(l))
}

func handleCreateList(c *reqCtx, w http.ResponseWriter) {
	var in struct {
		DisplayName string `json:"displayName"`
	}
	if json.Unmarshal(c.body, &in) != nil || in.DisplayName == "" {
		c.fail(w, badRequest("displayName is required"))
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	l := &taskList{id: c.m.newID("list"), name: in.DisplayName, wellknown: "none"}
	c.m.lists = append(c.m.lists, l)
	writeJSON(w, http.StatusCreated, renderList(l))
}

// --- master categories -----------------------------------------------------

var rePreset = regexp.MustCompile(`^(none|preset([0-9]|1[0-9]|2[0-4]))$`)

func handleListCategories(c *reqCtx, w http.ResponseWriter) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	value := []any{}
	for _, cat := range c.m.cats {
		value = append(value, map[string]any{"id": cat.id, "displayName": cat.name, "color": cat.color})
	}
	writeJSON(w, 200, map[string]any{"@odata.context": c.context("outlook/masterCategories"), "value": value})
}

func handleCreateCategory(c *reqCtx, w http.ResponseWriter) {
	var in map[string]any
	if json.Unmarshal(c.body, &in) != nil {
		c.fail(w, badRequest("bad body"))
		return
	}
	name, _ := in["displayName"].(string)
	color, _ := in["color"].(string)
	for k := range in {
		if k != "displayName" && k != "color" {
			c.fail(w, &httpError{status: 400, code: "RequestBodyRead", message: "The property '" + k + "' does not exist on type 'microsoft.graph.outlookCategory'."})
			return
		}
	}
	if name == "" {
		c.fail(w, badRequest("displayName is required"))
		return
	}
	if color == "" {
		color = "none"
	}
	if !rePreset.MatchString(color) {
		c.fail(w, badRequest("Invalid color '"+color+"'."))
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, cat := range c.m.cats {
		if strings.EqualFold(cat.name, name) {
			writeError(w, c.s.now(), http.StatusConflict, "ErrorFolderExists", "A category with the specified name already exists.")
			return
		}
	}
	cat := &category{id: c.m.newGUID(), name: name, color: color}
	c.m.cats = append(c.m.cats, cat)
	c.s.count(c.m.id, func(st *mailboxStats) { st.Writes++ })
	writeJSON(w, http.StatusCreated, map[string]any{"@odata.context": c.context("outlook/masterCategories/$entity"),
		"id": cat.id, "displayName": cat.name, "color": cat.color})
}

func handleDeleteCategory(c *reqCtx, w http.ResponseWriter) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for i, cat := range c.m.cats {
		if cat.id == c.params["id"] {
			c.m.cats = append(c.m.cats[:i], c.m.cats[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	c.notFound(w)
}

// encodeQuery mirrors the client: literal $ keys, %20 for spaces.
func encodeQuery(q map[string][]string) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, k+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}
