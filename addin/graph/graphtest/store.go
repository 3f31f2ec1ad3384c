package graphtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph/internal/wintz"
)

// Kind names an item collection of a mailbox.
type Kind string

// The item kinds the fake stores.
const (
	Contacts Kind = "contacts"
	Events   Kind = "events"
	Tasks    Kind = "tasks"
	Messages Kind = "messages"
)

// ErrNotFound is returned by Mailbox methods for an unknown or deleted id.
var ErrNotFound = errors.New("graphtest: item not found")

type version struct {
	seq        int64
	deleted    bool
	start, end time.Time
}

type record struct {
	id        string
	kind      Kind
	coll      string // contacts folder, task list
	data      map[string]any
	props     []map[string]any // singleValueExtendedProperties
	created   time.Time
	modified  time.Time
	changeKey string
	seq       int64
	deleted   bool
	start     time.Time // events, as instants
	end       time.Time
	history   []version
}

type taskList struct {
	id, name, wellknown string
}

type category struct {
	id, name, color string
}

// Mailbox is one user's mailbox. Its methods act as the user in Outlook:
// they change data directly, bypass faults and counters, and never count as
// meeting messages sent by the API.
type Mailbox struct {
	s           *Server
	id          string
	address     string
	displayName string
	userID      string

	seq      int64
	epoch    int
	counter  int64
	records  map[string]*record
	order    []*record
	folderID string
	lists    []*taskList
	cats     []*category
}

// MailboxOptions describes a new mailbox's owner.
type MailboxOptions struct {
	Address     string // default ID@contoso.example
	DisplayName string // default ID
}

func newMailbox(s *Server, id string, o MailboxOptions) *Mailbox {
	if o.Address == "" {
		o.Address = id + "@contoso.example"
	}
	if o.DisplayName == "" {
		o.DisplayName = id
	}
	m := &Mailbox{s: s, id: id, address: o.Address, displayName: o.DisplayName, records: map[string]*record{}}
	m.userID = m.newGUID()
	m.folderID = m.newID("folder")
	m.lists = []*taskList{{id: m.newID("list"), name: "Tasks", wellknown: "defaultList"}}
	// A new Outlook profile has these six presets (outlookcategory-list.json).
	for _, c := range [][2]string{{"Red category", "preset0"}, {"Orange category", "preset1"},
		{"Yellow category", "preset3"}, {"Green category", "preset4"}, {"Blue category", "preset7"},
		{"Purple category", "preset8"}} {
		m.cats = append(m.cats, &category{id: m.newGUID(), name: c[0], color: c[1]})
	}
	return m
}

// deterministic ids make failures reproducible between runs.
func (m *Mailbox) hash(parts ...string) []byte {
	m.counter++
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(m.counter))
	h.Write(n[:])
	h.Write([]byte(m.id))
	return h.Sum(nil)
}

// newID makes an Outlook-looking immutable id ("AAMk…AAA="). URL-safe
// base64, so ids survive paths unescaped, as Graph's REST ids do.
func (m *Mailbox) newID(kind string) string {
	return "AAMk" + base64.URLEncoding.EncodeToString(m.hash(kind)[:24]) + "AAA="
}

func (m *Mailbox) newGUID() string {
	b := m.hash("guid")
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (m *Mailbox) newChangeKey(r *record) string {
	return base64.StdEncoding.EncodeToString(m.hash("ck", r.id)[:16])
}

// ID returns the mailbox id (the default bearer token for it).
func (m *Mailbox) ID() string { return m.id }

// Address returns the owner's SMTP address.
func (m *Mailbox) Address() string { return m.address }

// ContactFolderID is the id of the default contacts folder (the
// parentFolderId of its contacts).
func (m *Mailbox) ContactFolderID() string { return m.folderID }

// DefaultListID is the id of the default To Do list.
func (m *Mailbox) DefaultListID() string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	return m.lists[0].id
}

// ExpireDeltaTokens invalidates every delta and skip token issued so far:
// their next use answers 410 Gone with code syncStateNotFound, as Graph
// does when it has dropped a sync state.
func (m *Mailbox) ExpireDeltaTokens() {
	m.s.mu.Lock()
	m.epoch++
	m.s.mu.Unlock()
}

// toMap turns a Go value (a map or a struct with JSON tags, e.g. a
// graph.Contact) into the JSON object the fake stores.
func toMap(v any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("graphtest: item must encode to a JSON object: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, x := range t {
			c[k] = deepCopy(x)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = deepCopy(x)
		}
		return c
	default:
		return v
	}
}

// serverManaged are properties the server sets; a body may carry them (a
// client echoing a read item) but they are ignored.
var serverManaged = map[string]bool{
	"@odata.etag": true, "@odata.context": true, "@odata.type": true, "@removed": true,
	"id": true, "changeKey": true, "createdDateTime": true, "lastModifiedDateTime": true,
	"parentFolderId": true,
}

// create stores a new item. apiWrite marks requests from the client (as
// opposed to the user acting through the Go API).
func (m *Mailbox) create(kind Kind, coll string, data map[string]any) (*record, error) {
	now := m.s.now()
	r := &record{id: m.newID(string(kind)), kind: kind, coll: coll, data: map[string]any{}, created: now}
	if err := m.apply(r, data); err != nil {
		return nil, err
	}
	switch kind {
	case Events:
		if _, ok := r.data["iCalUId"]; !ok {
			r.data["iCalUId"] = "040000008200E00074C5B7101A82E008" + strings.ToUpper(fmt.Sprintf("%x", m.hash("ical")[:24]))
		}
		if _, ok := r.data["organizer"]; !ok {
			r.data["organizer"] = map[string]any{"emailAddress": map[string]any{"name": m.displayName, "address": m.address}}
		}
		if _, ok := r.data["isOrganizer"]; !ok {
			org, _ := r.data["organizer"].(map[string]any)
			ea, _ := org["emailAddress"].(map[string]any)
			addr, _ := ea["address"].(string)
			r.data["isOrganizer"] = strings.EqualFold(addr, m.address)
		}
		if _, ok := r.data["responseStatus"]; !ok {
			resp := "none"
			if r.data["isOrganizer"] == true {
				resp = "organizer"
			}
			r.data["responseStatus"] = map[string]any{"response": resp, "time": "0001-01-01T00:00:00Z"}
		}
	case Messages:
		if _, ok := r.data["receivedDateTime"]; !ok {
			r.data["receivedDateTime"] = formatTime(now)
		}
		if _, ok := r.data["internetMessageId"]; !ok {
			r.data["internetMessageId"] = "<" + base64.RawURLEncoding.EncodeToString(m.hash("mid")[:12]) + "@contoso.example>"
		}
		if _, ok := r.data["conversationId"]; !ok {
			r.data["conversationId"] = "AAQk" + base64.URLEncoding.EncodeToString(m.hash("conv")[:12])
		}
	}
	m.records[r.id] = r
	m.order = append(m.order, r)
	m.touch(r, now)
	return r, nil
}

// apply merges a property bag into a record (PATCH semantics: present keys
// replace, extended properties merge by id).
func (m *Mailbox) apply(r *record, data map[string]any) error {
	for k, v := range data {
		if serverManaged[k] {
			continue
		}
		if k == "singleValueExtendedProperties" {
			list, ok := v.([]any)
			if !ok {
				return badRequest("singleValueExtendedProperties must be an array")
			}
			for _, p := range list {
				pm, ok := p.(map[string]any)
				id, _ := pm["id"].(string)
				if !ok || id == "" {
					return badRequest("an extended property needs an id and a value")
				}
				replaced := false
				for i, old := range r.props {
					if strings.EqualFold(old["id"].(string), id) {
						r.props[i] = deepCopy(pm).(map[string]any)
						replaced = true
					}
				}
				if !replaced {
					r.props = append(r.props, deepCopy(pm).(map[string]any))
				}
			}
			continue
		}
		r.data[k] = deepCopy(v)
	}
	if r.kind == Events {
		st, err := parseDTZ(r.data["start"])
		if err != nil {
			return badRequest("event start: " + err.Error())
		}
		en, err := parseDTZ(r.data["end"])
		if err != nil {
			return badRequest("event end: " + err.Error())
		}
		if en.Before(st) {
			return badRequest("The event end must be after its start.")
		}
		r.start, r.end = st, en
		if s, ok := r.data["start"].(map[string]any); ok {
			r.data["originalStartTimeZone"] = s["timeZone"]
		}
		if e, ok := r.data["end"].(map[string]any); ok {
			r.data["originalEndTimeZone"] = e["timeZone"]
		}
	}
	return nil
}

func parseDTZ(v any) (time.Time, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return time.Time{}, errors.New("missing dateTimeTimeZone")
	}
	dt, _ := m["dateTime"].(string)
	tz, _ := m["timeZone"].(string)
	return wintz.Parse(dt, tz)
}

// touch records a change: new sequence number, changeKey and history entry.
func (m *Mailbox) touch(r *record, now time.Time) {
	m.seq++
	r.seq = m.seq
	r.modified = now
	r.changeKey = m.newChangeKey(r)
	r.history = append(r.history, version{seq: r.seq, deleted: r.deleted, start: r.start, end: r.end})
}

func (m *Mailbox) update(r *record, data map[string]any) error {
	// Validate on a copy first so a bad patch changes nothing.
	trial := &record{kind: r.kind, data: deepCopy(r.data).(map[string]any)}
	for _, p := range r.props {
		trial.props = append(trial.props, deepCopy(p).(map[string]any))
	}
	if err := m.apply(trial, data); err != nil {
		return err
	}
	r.data, r.props, r.start, r.end = trial.data, trial.props, trial.start, trial.end
	m.touch(r, m.s.now())
	return nil
}

func (m *Mailbox) remove(r *record) {
	r.deleted = true
	m.touch(r, m.s.now())
}

func (m *Mailbox) live(kind Kind, id string) (*record, bool) {
	r, ok := m.records[id]
	if !ok || r.deleted || r.kind != kind {
		return nil, false
	}
	return r, true
}

func (m *Mailbox) liveList(kind Kind, coll string) []*record {
	var out []*record
	for _, r := range m.order {
		if r.kind == kind && !r.deleted && (coll == "" || r.coll == coll) {
			out = append(out, r)
		}
	}
	return out
}

func (m *Mailbox) defaultColl(kind Kind) string {
	switch kind {
	case Contacts:
		return m.folderID
	case Tasks:
		return m.lists[0].id
	}
	return ""
}

// --- Go API: the user acting in Outlook -----------------------------------

// Create adds an item as the user would in Outlook (contacts to the
// default folder, tasks to the default list) and returns its id. v is a
// map or any value that encodes to a JSON object, e.g. a graph.Contact.
// An event with an organizer other than the owner is an invitation the
// user received (isOrganizer false).
func (m *Mailbox) Create(kind Kind, v any) (string, error) {
	data, err := toMap(v)
	if err != nil {
		return "", err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	r, err := m.create(kind, m.defaultColl(kind), data)
	if err != nil {
		return "", err
	}
	return r.id, nil
}

// Update changes properties of an item as the user would, moving its
// changeKey.
func (m *Mailbox) Update(kind Kind, id string, patch any) error {
	data, err := toMap(patch)
	if err != nil {
		return err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	r, ok := m.live(kind, id)
	if !ok {
		return ErrNotFound
	}
	return m.update(r, data)
}

// Delete deletes an item as the user would.
func (m *Mailbox) Delete(kind Kind, id string) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	r, ok := m.live(kind, id)
	if !ok {
		return ErrNotFound
	}
	m.remove(r)
	return nil
}

// Get returns an item as Graph would render it (UTC times, extended
// properties included).
func (m *Mailbox) Get(kind Kind, id string) (map[string]any, bool) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	r, ok := m.live(kind, id)
	if !ok {
		return nil, false
	}
	return m.render(r, renderOpts{allProps: true}), true
}

// List returns the live items of a kind in creation order.
func (m *Mailbox) List(kind Kind) []map[string]any {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []map[string]any
	for _, r := range m.liveList(kind, "") {
		out = append(out, m.render(r, renderOpts{allProps: true}))
	}
	return out
}

// Count returns the number of live items of a kind.
func (m *Mailbox) Count(kind Kind) int {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	return len(m.liveList(kind, ""))
}

// ExtendedProperty returns an item's single-value extended property.
func (m *Mailbox) ExtendedProperty(kind Kind, id, propID string) (string, bool) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	r, ok := m.live(kind, id)
	if !ok {
		return "", false
	}
	for _, p := range r.props {
		if strings.EqualFold(p["id"].(string), propID) {
			v, _ := p["value"].(string)
			return v, true
		}
	}
	return "", false
}

// AddTaskList adds a To Do list and returns its id.
func (m *Mailbox) AddTaskList(name string) string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	l := &taskList{id: m.newID("list"), name: name, wellknown: "none"}
	m.lists = append(m.lists, l)
	return l.id
}

// CreateTaskIn adds a task to a specific list.
func (m *Mailbox) CreateTaskIn(listID string, v any) (string, error) {
	data, err := toMap(v)
	if err != nil {
		return "", err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.list(listID) == nil {
		return "", ErrNotFound
	}
	r, err := m.create(Tasks, listID, data)
	if err != nil {
		return "", err
	}
	return r.id, nil
}

func (m *Mailbox) list(id string) *taskList {
	for _, l := range m.lists {
		if l.id == id {
			return l
		}
	}
	return nil
}

// MasterCategories returns the master category names and colors.
func (m *Mailbox) MasterCategories() map[string]string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	out := map[string]string{}
	for _, c := range m.cats {
		out[c.name] = c.color
	}
	return out
}

// --- rendering --------------------------------------------------------------

const graphDateTime = "2006-01-02T15:04:05.0000000"

// Graph writes seven fractional digits ("2017-04-15T03:00:50.7579581Z").
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

type renderOpts struct {
	sel       map[string]bool // $select; nil = all
	expand    func(id string) bool
	allProps  bool
	tz        *time.Location
	tzName    string
	odataType bool
}

var odataTypes = map[Kind]string{Events: "#microsoft.graph.event"}

func etag(ck string) string { return `W/"` + ck + `"` }

// render produces the item as Graph returns it.
func (m *Mailbox) render(r *record, o renderOpts) map[string]any {
	out := deepCopy(r.data).(map[string]any)
	out["id"] = r.id
	out["@odata.etag"] = etag(r.changeKey)
	out["createdDateTime"] = formatTime(r.created)
	out["lastModifiedDateTime"] = formatTime(r.modified)
	if _, ok := out["categories"]; !ok {
		out["categories"] = []any{}
	}
	switch r.kind {
	case Contacts:
		out["changeKey"] = r.changeKey
		out["parentFolderId"] = r.coll
	case Messages:
		out["changeKey"] = r.changeKey
		if _, ok := out["parentFolderId"]; !ok {
			out["parentFolderId"] = m.folderID
		}
		// Graph returns headers only when explicitly selected.
		if o.sel == nil || !o.sel["internetMessageHeaders"] {
			delete(out, "internetMessageHeaders")
		}
	case Tasks:
		// To Do tasks carry an etag but no changeKey (todotask-get.json).
		setDefault(out, "importance", "normal")
		setDefault(out, "status", "notStarted")
		setDefault(out, "isReminderOn", false)
		setDefault(out, "body", map[string]any{"content": "", "contentType": "text"})
	case Events:
		out["changeKey"] = r.changeKey
		loc, name := time.UTC, "UTC"
		if o.tz != nil {
			loc, name = o.tz, o.tzName
		}
		out["start"] = map[string]any{"dateTime": r.start.In(loc).Format(graphDateTime), "timeZone": name}
		out["end"] = map[string]any{"dateTime": r.end.In(loc).Format(graphDateTime), "timeZone": name}
		setDefault(out, "attendees", []any{})
		setDefault(out, "sensitivity", "normal")
		setDefault(out, "isAllDay", false)
		setDefault(out, "isCancelled", false)
		setDefault(out, "showAs", "busy")
		setDefault(out, "importance", "normal")
		setDefault(out, "type", "singleInstance")
		setDefault(out, "body", map[string]any{"contentType": "html", "content": ""})
		if o.odataType {
			out["@odata.type"] = odataTypes[Events]
		}
	}
	if o.sel != nil {
		for k := range out {
			if !o.sel[k] && k != "id" && k != "@odata.etag" && k != "@odata.type" {
				delete(out, k)
			}
		}
	}
	var props []any
	for _, p := range r.props {
		if o.allProps || (o.expand != nil && o.expand(p["id"].(string))) {
			props = append(props, deepCopy(p))
		}
	}
	if len(props) > 0 {
		out["singleValueExtendedProperties"] = props
	}
	return out
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// meetingRelevant reports whether a patch changes what attendees are told
// about: time, place or the attendee list.
func meetingRelevant(before *record, after *record) bool {
	if !before.start.Equal(after.start) || !before.end.Equal(after.end) {
		return true
	}
	for _, k := range []string{"location", "locations", "attendees"} {
		if !reflect.DeepEqual(normalizeEmpty(before.data[k]), normalizeEmpty(after.data[k])) {
			return true
		}
	}
	return false
}

func normalizeEmpty(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		if len(t) == 0 {
			return nil
		}
	case map[string]any:
		if len(t) == 0 {
			return nil
		}
	}
	return v
}

func hasAttendees(r *record) bool {
	a, _ := r.data["attendees"].([]any)
	return len(a) > 0
}

func sortBySeq(rs []*record) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].seq < rs[j].seq })
}
