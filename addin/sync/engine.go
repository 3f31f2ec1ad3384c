package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// link is a sync_links row (with the columns added by migration 0500).
type link struct {
	ID            int64
	UserID        int64
	ObjectType    string
	CrmID         int64
	GraphID       string
	ChangeKey     string // the item's etag when last synced
	CrmVersion    int64
	CrmSnapshot   string
	GraphSnapshot string
	State         string
	OutOfScope    bool
	AwaitingDelta bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (link) TableName() string { return "sync_links" }

// Link states.
const (
	linkPending = "pending"
	linkLinked  = "linked"
	linkHeld    = "held"
)

// staleVersion on a link makes the next run revisit the pair (a push to
// Outlook that did not complete).
const staleVersion = -1

// gItem is an Outlook item as the engine sees it.
type gItem struct {
	ID      string
	ETag    string
	Removed bool
	Cats    []string
	Fields  fields
	// Skip is a skip outcome for items outside the scope rules (private,
	// out of window); "" when in scope apart from the category.
	Skip string
}

// crmItem is a CRM record as the engine sees it.
type crmItem struct {
	ID      int64
	Version int64
	OwnerID int64
	Deleted bool
	Origin  string
	Skip    string
	Fields  fields
}

// kind adapts one object type (contacts, tasks, appointments) to the
// engine: how to read both sides, map fields and build Graph writes.
type kind interface {
	Type() string
	Names() []string
	PushOnly(field string) bool
	Toggles(st settings.Settings) settings.TypeSync
	// Prepare runs once per run (e.g. resolve the To Do list).
	Prepare(ctx context.Context, tr *typeRun) error
	Delta(ctx context.Context, tr *typeRun, link string) (items []gItem, deltaLink string, err error)
	// Find looks up the item carrying a CRM id (crash recovery).
	Find(ctx context.Context, tr *typeRun, crmID int64) (*gItem, error)
	// Confirm checks removals the delta reports that may not be deletions
	// (events leaving the window): for each id, confirmDeleted or
	// confirmLeft (still there, out of scope: the link is dropped).
	Confirm(ctx context.Context, tr *typeRun, ids []string) (map[string]string, error)
	Changed(ctx context.Context, tr *typeRun, watermark int64) ([]crmItem, error)
	Load(ctx context.Context, tr *typeRun, ids []int64) (map[int64]*crmItem, error)
	Candidates(ctx context.Context, tr *typeRun) ([]crmItem, error)
	// Keys are the duplicate-matching keys of a record (any one matching
	// links the pair).
	Keys(f fields) []string
	CreateCRM(ctx context.Context, tr *typeRun, f fields) (*crmItem, error)
	UpdateCRM(ctx context.Context, tr *typeRun, id int64, f fields) (int64, error)
	DeleteCRM(ctx context.Context, tr *typeRun, id int64) error
	CreateReq(tr *typeRun, f fields, crmID int64) graph.BatchRequest
	PatchReq(tr *typeRun, id string, changed []string, want, have fields, etag string) graph.BatchRequest
	DeleteReq(tr *typeRun, id string) graph.BatchRequest
	CategoryReq(tr *typeRun, id string, cats []string) graph.BatchRequest
	Decode(tr *typeRun, r *graph.BatchResponse) (*gItem, error)
}

// Confirm answers.
const (
	confirmDeleted = "deleted"
	confirmLeft    = "left"
)

func allDeleted(ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		out[id] = confirmDeleted
	}
	return out
}

// pair is one linked record seen in this run.
type pair struct {
	l        *link
	crm      *crmItem // nil: gone
	crmGone  bool
	g        *gItem // nil: not in the delta (unchanged)
	gRemoved bool
}

// graphOp is one Outlook write of a run, sent in a $batch.
type graphOp struct {
	req  graph.BatchRequest
	done func(ctx context.Context, r *graph.BatchResponse) error
	fail func(ctx context.Context, err error) error
}

// typeRun is the sync of one type within a run.
type typeRun struct {
	*runCtx
	k          kind
	typ        string
	toggles    settings.TypeSync
	cur        cursor
	links      []*link
	byCRM      map[int64]*link
	byGraph    map[string]*link
	ops        []graphOp
	incomplete bool // an incoming change was not applied: keep the delta link
	container  string
	now        time.Time
}

// cursor is a sync_cursors row (with the columns added by migration 0500).
type cursor struct {
	UserID        int64  `gorm:"primaryKey;autoIncrement:false"`
	ObjectType    string `gorm:"primaryKey"`
	DeltaLink     string
	CrmWatermark  int64
	FirstSyncDone bool
	ContainerID   string
	WindowStart   string
	UpdatedAt     time.Time
}

func (cursor) TableName() string { return "sync_cursors" }

func (e *Engine) syncType(ctx context.Context, rc *runCtx, k kind) error {
	tr := &typeRun{runCtx: rc, k: k, typ: k.Type(), toggles: k.Toggles(rc.st), byCRM: map[int64]*link{},
		byGraph: map[string]*link{}, now: e.now()}
	db := e.Store.DB(ctx)
	t0 := time.Now()
	res := db.Where("user_id = ? AND object_type = ?", rc.userID, tr.typ).Limit(1).Find(&tr.cur)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		tr.cur = cursor{UserID: rc.userID, ObjectType: tr.typ}
	}
	// The watermark this run will save: every change committed later
	// carries a higher version (see the package comment).
	watermark, err := e.Store.CurrentVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.Where("user_id = ? AND object_type = ?", rc.userID, tr.typ).Find(&tr.links).Error; err != nil {
		return err
	}
	for _, l := range tr.links {
		tr.byCRM[l.CrmID] = l
		if l.GraphID != "" {
			tr.byGraph[l.GraphID] = l
		}
	}
	rc.crmDur += time.Since(t0)
	if err := k.Prepare(ctx, tr); err != nil {
		return err
	}

	// 1. Pending links: a create in Outlook whose outcome is unknown. Look
	// the item up by the CRM id it carries before anything else.
	var recreate []*link
	for _, l := range tr.links {
		if l.State != linkPending {
			continue
		}
		t := time.Now()
		it, err := k.Find(ctx, tr, l.CrmID)
		rc.graphDur += time.Since(t)
		switch {
		case err == nil:
			l.GraphID, l.ChangeKey, l.State = it.ID, it.ETag, linkLinked
			l.GraphSnapshot = it.Fields.json()
			l.AwaitingDelta = true
			if err := tr.saveLink(ctx, l); err != nil {
				return err
			}
			tr.byGraph[l.GraphID] = l
		case errors.Is(err, graph.ErrNotFound):
			recreate = append(recreate, l)
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(tr.typ, l.CrmID, "", ToO365, OutFailed, "lookup of a pending create: "+err.Error())
		}
	}

	// 2. Outlook changes.
	t := time.Now()
	full := tr.cur.DeltaLink == ""
	items, deltaLink, err := k.Delta(ctx, tr, tr.cur.DeltaLink)
	if errors.Is(err, graph.ErrResyncRequired) {
		// The sync state expired: enumerate again and match by link.
		full = true
		items, deltaLink, err = k.Delta(ctx, tr, "")
	}
	rc.graphDur += time.Since(t)
	if err != nil {
		return err
	}
	resync := full && tr.cur.FirstSyncDone

	// 3. CRM changes: above the watermark, or linked with another version.
	t = time.Now()
	changed, err := k.Changed(ctx, tr, tr.cur.CrmWatermark)
	if err != nil {
		return err
	}
	rc.crmDur += time.Since(t)

	pairs := map[int64]*pair{}
	pairOf := func(l *link) *pair {
		p := pairs[l.ID]
		if p == nil {
			p = &pair{l: l}
			pairs[l.ID] = p
		}
		return p
	}
	var newG []*gItem
	seenG := map[string]bool{}
	var maybeRemoved []string
	for i := range items {
		g := &items[i]
		seenG[g.ID] = true
		l := tr.byGraph[g.ID]
		if g.Removed {
			if l != nil {
				maybeRemoved = append(maybeRemoved, g.ID)
			}
			continue
		}
		if l != nil {
			pairOf(l).g = g
			continue
		}
		newG = append(newG, g)
	}
	for _, l := range tr.links {
		if l.State == linkPending || l.GraphID == "" {
			continue
		}
		switch {
		case !seenG[l.GraphID] && (l.AwaitingDelta || resync):
			// Created by us after the token, or present before a resync,
			// yet not reported: gone.
			maybeRemoved = append(maybeRemoved, l.GraphID)
		case seenG[l.GraphID] && l.AwaitingDelta:
			l.AwaitingDelta = false
			if err := tr.saveLink(ctx, l); err != nil {
				return err
			}
		}
	}
	if len(maybeRemoved) > 0 {
		t := time.Now()
		gone, err := k.Confirm(ctx, tr, maybeRemoved)
		rc.graphDur += time.Since(t)
		if err != nil {
			return err
		}
		for _, id := range maybeRemoved {
			l := tr.byGraph[id]
			switch gone[id] {
			case confirmDeleted:
				pairOf(l).gRemoved = true
			case confirmLeft:
				rc.event(tr.typ, l.CrmID, id, "", OutSkippedWindow, "the item left the sync window; the pair is no longer synced")
				delete(pairs, l.ID)
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
			}
		}
	}
	var newC []*crmItem
	recreateSet := map[int64]*link{}
	for _, l := range recreate {
		recreateSet[l.CrmID] = l
	}
	for i := range changed {
		c := &changed[i]
		if l := tr.byCRM[c.ID]; l != nil && l.State != linkPending {
			p := pairOf(l)
			p.crm = c
			p.crmGone = c.Deleted
			continue
		}
		if c.Deleted {
			if l := recreateSet[c.ID]; l != nil {
				delete(recreateSet, c.ID)
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
			}
			continue
		}
		if tr.byCRM[c.ID] != nil && recreateSet[c.ID] == nil {
			continue // pending link whose lookup failed: retried next run
		}
		newC = append(newC, c)
		delete(recreateSet, c.ID)
	}
	var need []int64
	for _, l := range recreateSet {
		need = append(need, l.CrmID)
	}
	for _, p := range pairs {
		if p.crm == nil {
			need = append(need, p.l.CrmID)
		}
	}
	if len(need) > 0 {
		loaded, err := k.Load(ctx, tr, need)
		if err != nil {
			return err
		}
		for _, l := range recreateSet { // pending creates of unchanged records
			c := loaded[l.CrmID]
			if c == nil || c.Deleted {
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
				continue
			}
			newC = append(newC, c)
		}
		for _, p := range pairs {
			if p.crm == nil {
				c := loaded[p.l.CrmID]
				if c == nil || c.Deleted || c.OwnerID != rc.userID {
					p.crmGone = true
				}
				p.crm = c
			}
		}
	}

	// 4. Deletes, with the safety brake.
	var delCRM, delGraph []*pair
	ids := make([]int64, 0, len(pairs))
	for id := range pairs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var updates []*pair
	cat := rc.st.CategoryName
	for _, id := range ids {
		p := pairs[id]
		l := p.l
		switch {
		case p.gRemoved && l.OutOfScope:
			rc.event(tr.typ, l.CrmID, l.GraphID, ToCRM, OutSkippedNoCategory, "deleted in Outlook while out of scope; the CRM record is kept")
			if err := tr.deleteLink(ctx, l); err != nil {
				return err
			}
		case p.crmGone && l.OutOfScope && (p.g == nil || !hasCategory(p.g.Cats, cat)):
			rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, OutSkippedNoCategory, "deleted in the CRM while out of scope; the Outlook item is kept")
			if err := tr.deleteLink(ctx, l); err != nil {
				return err
			}
		case p.gRemoved && p.crmGone:
			if err := tr.deleteLink(ctx, l); err != nil {
				return err
			}
		case p.gRemoved:
			if !tr.toggles.DeleteOld {
				rc.event(tr.typ, l.CrmID, l.GraphID, ToCRM, OutSkippedDeleteOff, "deleted in Outlook; Delete Old Records is off")
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
				continue
			}
			delCRM = append(delCRM, p)
		case p.crmGone:
			if !tr.toggles.DeleteOld {
				rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, OutSkippedDeleteOff, "deleted in the CRM; Delete Old Records is off")
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
				continue
			}
			if parseFields(l.GraphSnapshot)["_meeting"] == "1" {
				// Deleting an organised meeting with attendees would send
				// them a cancellation.
				rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, OutSkippedDeleteOff, "meeting with attendees: cancel it in Outlook")
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
				continue
			}
			if p.crm != nil && (p.crm.Origin == models.OriginImport || p.crm.Origin == models.OriginMerge) {
				rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, OutSkippedDeleteOff, "record of origin "+p.crm.Origin+" is never deleted in Outlook")
				if err := tr.deleteLink(ctx, l); err != nil {
					return err
				}
				continue
			}
			delGraph = append(delGraph, p)
		default:
			updates = append(updates, p)
		}
	}
	braked := false
	if n := len(delCRM) + len(delGraph); n > 0 {
		synced := len(tr.links)
		if n >= rc.st.DeleteBrakeMinimum && n*100 > rc.st.DeleteBrakePercent*synced {
			braked = true
			msg := fmt.Sprintf("safety brake: the run would delete %d of %d synced %ss; nothing deleted, user set to needs review", n, synced, tr.typ)
			for _, p := range append(delCRM, delGraph...) {
				dir := ToCRM
				if p.crmGone {
					dir = ToO365
				}
				rc.event(tr.typ, p.l.CrmID, p.l.GraphID, dir, OutBrake, msg)
			}
			if err := db.Model(&models.UserMapping{}).Where("user_id = ?", rc.userID).
				Updates(map[string]any{"sync_state": models.SyncNeedsReview, "updated_at": e.now()}).Error; err != nil {
				return err
			}
			e.log().Warn("sync safety brake", "user", rc.userID, "type", tr.typ, "deletes", n, "synced", synced)
			delCRM, delGraph = nil, nil
		}
	}
	for _, p := range delCRM {
		err := e.Store.Tx(ctx, func(ctx context.Context) error {
			if p.crm != nil && !p.crm.Deleted {
				if err := k.DeleteCRM(ctx, tr, p.l.CrmID); err != nil && models.ErrorCode(err) != models.CodeNotFound {
					return err
				}
			}
			return e.Store.DB(ctx).Delete(&link{}, p.l.ID).Error
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(tr.typ, p.l.CrmID, p.l.GraphID, ToCRM, OutFailed, err.Error())
			tr.incomplete = true
			continue
		}
		rc.event(tr.typ, p.l.CrmID, p.l.GraphID, ToCRM, OutDeleted, "deleted in Outlook")
	}
	for _, p := range delGraph {
		p := p
		tr.ops = append(tr.ops, graphOp{
			req: k.DeleteReq(tr, p.l.GraphID),
			done: func(ctx context.Context, _ *graph.BatchResponse) error {
				rc.event(tr.typ, p.l.CrmID, p.l.GraphID, ToO365, OutDeleted, "deleted in the CRM")
				return tr.deleteLink(ctx, p.l)
			},
			fail: func(ctx context.Context, err error) error {
				if errors.Is(err, graph.ErrNotFound) {
					rc.event(tr.typ, p.l.CrmID, p.l.GraphID, ToO365, OutDeleted, "deleted in the CRM (already gone in Outlook)")
					return tr.deleteLink(ctx, p.l)
				}
				rc.event(tr.typ, p.l.CrmID, p.l.GraphID, ToO365, OutFailed, err.Error())
				return nil // the link keeps its version: retried next run
			},
		})
	}

	// 5. Linked records changed on either side.
	for _, p := range updates {
		if err := tr.reconcile(ctx, p); err != nil {
			return err
		}
	}

	// 6. New Outlook items: match, then create in the CRM.
	claimed := map[int64]bool{}
	if len(newG) > 0 {
		if err := tr.importNew(ctx, newG, full, claimed); err != nil {
			return err
		}
	}

	// 7. New CRM records: create in Outlook.
	if err := tr.exportNew(ctx, newC, claimed); err != nil {
		return err
	}

	// 8. Outlook writes in $batch.
	if err := tr.flushOps(ctx); err != nil {
		return err
	}

	// 9. Cursor.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	tr.cur.CrmWatermark = watermark
	tr.cur.FirstSyncDone = true
	tr.cur.ContainerID = tr.container
	if !tr.incomplete && !braked {
		tr.cur.DeltaLink = deltaLink
	}
	tr.cur.UpdatedAt = e.now()
	if err := db.Save(&tr.cur).Error; err != nil {
		return err
	}
	return rc.flush(ctx)
}

func (tr *typeRun) saveLink(ctx context.Context, l *link) error {
	l.UpdatedAt = tr.e.now()
	if l.ID == 0 {
		l.CreatedAt = l.UpdatedAt
		return tr.e.Store.DB(ctx).Create(l).Error
	}
	return tr.e.Store.DB(ctx).Save(l).Error
}

func (tr *typeRun) deleteLink(ctx context.Context, l *link) error {
	delete(tr.byCRM, l.CrmID)
	if l.GraphID != "" {
		delete(tr.byGraph, l.GraphID)
	}
	return tr.e.Store.DB(ctx).Delete(&link{}, l.ID).Error
}

// reconcile merges one linked pair that changed on either side.
func (tr *typeRun) reconcile(ctx context.Context, p *pair) error {
	rc := tr.runCtx
	l := p.l
	cat := rc.st.CategoryName
	if p.g != nil && !hasCategory(p.g.Cats, cat) {
		if !l.OutOfScope {
			l.OutOfScope = true
			rc.event(tr.typ, l.CrmID, l.GraphID, "", OutSkippedNoCategory, "the category was removed in Outlook; the pair is kept but not synced")
			return tr.saveLink(ctx, l)
		}
		return nil
	}
	if p.g == nil && l.OutOfScope {
		return nil // still out of scope; the CRM change waits for the category
	}
	if p.g != nil && p.g.Skip != "" {
		rc.event(tr.typ, l.CrmID, l.GraphID, "", p.g.Skip, "")
		return nil
	}
	if p.crm != nil && p.crm.Skip != "" {
		rc.event(tr.typ, l.CrmID, l.GraphID, "", p.crm.Skip, "")
		return nil
	}
	if l.State == linkHeld {
		return tr.updateHeld(ctx, p)
	}
	crmNow := p.crm.Fields
	graphNow := parseFields(l.GraphSnapshot)
	etag := l.ChangeKey
	var locked map[string]bool
	if p.g != nil {
		graphNow, etag = p.g.Fields, p.g.ETag
	}
	locked = lockedOf(graphNow)
	m := merge3(tr.k, crmBaseOf(l), parseFields(l.GraphSnapshot), crmNow, graphNow, rc.policy, locked)
	if len(m.conflicts) > 0 && rc.policy == "user" {
		return tr.hold(ctx, p, m, crmNow, graphNow, etag)
	}
	l.OutOfScope = false
	return tr.apply(ctx, p.crm, l, m, graphNow, etag, OutUpdated)
}

// lockedOf reads the fields that cannot be changed from the CRM on an item
// (a meeting the user does not organise), kept as "_locked".
func lockedOf(f fields) map[string]bool {
	if f["_locked"] == "" {
		return nil
	}
	out := map[string]bool{}
	for _, k := range strings.Split(f["_locked"], ",") {
		out[k] = true
	}
	return out
}

func crmBaseOf(l *link) fields { return parseFields(l.CrmSnapshot) }

// apply writes a merge result: the CRM side in one transaction with the
// link, then the Outlook side as a batched PATCH.
func (tr *typeRun) apply(ctx context.Context, c *crmItem, l *link, m mergeResult, graphNow fields, etag, outcome string) error {
	rc := tr.runCtx
	msg := ""
	if len(m.conflicts) > 0 {
		outcome = OutMerged
		msg = fmt.Sprintf("conflicting fields %v settled by policy %s", m.conflicts, rc.policy)
	}
	t := time.Now()
	version := c.Version
	err := tr.e.Store.Tx(ctx, func(ctx context.Context) error {
		if len(m.toCRM) > 0 {
			v, err := tr.k.UpdateCRM(ctx, tr, c.ID, m.result)
			if err != nil {
				return err
			}
			version = v
		}
		l.CrmVersion = version
		l.CrmSnapshot = m.result.json()
		l.GraphSnapshot = graphNow.json()
		l.ChangeKey = etag
		l.State = linkLinked
		if len(m.toGraph) > 0 {
			// Until Outlook confirms, the pair is revisited every run.
			l.CrmVersion = staleVersion
		}
		return tr.saveLink(ctx, l)
	})
	rc.crmDur += time.Since(t)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rc.event(tr.typ, l.CrmID, l.GraphID, ToCRM, OutFailed, err.Error())
		tr.incomplete = true
		return nil
	}
	if len(m.toCRM) > 0 {
		rc.event(tr.typ, l.CrmID, l.GraphID, ToCRM, outcome, msg)
	}
	if len(m.toGraph) == 0 {
		return nil
	}
	tr.ops = append(tr.ops, graphOp{
		req: tr.k.PatchReq(tr, l.GraphID, m.toGraph, m.result, graphNow, etag),
		done: func(ctx context.Context, r *graph.BatchResponse) error {
			out, err := tr.k.Decode(tr, r)
			if err != nil {
				return nil // applied; the next delta brings the new state
			}
			l.ChangeKey = out.ETag
			l.GraphSnapshot = out.Fields.json()
			l.CrmVersion = version
			rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, outcome, msg)
			return tr.saveLink(ctx, l)
		},
		fail: func(ctx context.Context, err error) error {
			rc.event(tr.typ, l.CrmID, l.GraphID, ToO365, OutFailed, err.Error())
			return nil
		},
	})
	return nil
}

// conflictDoc is the stored body of a held conflict.
type conflictDoc struct {
	Fields    map[string]conflictField `json:"fields"`
	CRM       fields                   `json:"crm"`
	Graph     fields                   `json:"graph"`
	ChangeKey string                   `json:"changeKey"`
}

type conflictField struct {
	Server string `json:"server"`
	Client string `json:"client"`
}

func (tr *typeRun) hold(ctx context.Context, p *pair, m mergeResult, crmNow, graphNow fields, etag string) error {
	l := p.l
	doc := conflictDoc{Fields: map[string]conflictField{}, CRM: crmNow, Graph: graphNow, ChangeKey: etag}
	for _, k := range m.conflicts {
		doc.Fields[k] = conflictField{Server: crmNow[k], Client: graphNow[k]}
	}
	b, _ := json.Marshal(doc)
	err := tr.e.Store.Tx(ctx, func(ctx context.Context) error {
		l.State = linkHeld
		if err := tr.saveLink(ctx, l); err != nil {
			return err
		}
		return tr.e.Store.DB(ctx).Create(&models.SyncConflict{UserID: tr.userID, LinkID: l.ID, ObjectType: l.ObjectType,
			CrmID: l.CrmID, Fields: string(b), Status: "open", CreatedAt: tr.e.now()}).Error
	})
	if err != nil {
		return err
	}
	tr.event(tr.typ, l.CrmID, l.GraphID, "", OutConflict, fmt.Sprintf("fields %v changed on both sides; held for the user", m.conflicts))
	return nil
}

// updateHeld keeps a held conflict current with the latest Outlook state.
func (tr *typeRun) updateHeld(ctx context.Context, p *pair) error {
	l := p.l
	tr.event(tr.typ, l.CrmID, l.GraphID, "", OutConflict, "held until the user resolves the conflict")
	if p.g == nil {
		return nil
	}
	var sc models.SyncConflict
	if err := tr.e.Store.DB(ctx).Where("link_id = ? AND status = 'open'", l.ID).Limit(1).Find(&sc).Error; err != nil || sc.ID == 0 {
		return err
	}
	var doc conflictDoc
	_ = json.Unmarshal([]byte(sc.Fields), &doc)
	doc.Graph = p.g.Fields
	doc.ChangeKey = p.g.ETag
	for k, f := range doc.Fields {
		f.Client = doc.Graph[k]
		doc.Fields[k] = f
	}
	b, _ := json.Marshal(doc)
	return tr.e.Store.DB(ctx).Model(&models.SyncConflict{}).Where("id = ?", sc.ID).Update("fields", string(b)).Error
}

// importNew handles Outlook items without a link: match against the user's
// unlinked CRM records (contacts on first + last name + email, on every
// run; appointments and tasks on the first sync or with Migration
// Enabled), else create.
func (tr *typeRun) importNew(ctx context.Context, newG []*gItem, full bool, claimed map[int64]bool) error {
	rc := tr.runCtx
	typ := tr.typ
	byKey := map[string]*crmItem{}
	matching := typ == models.SyncContact || full && !tr.cur.FirstSyncDone || rc.st.MigrationEnabled
	if matching {
		cands, err := tr.k.Candidates(ctx, tr)
		if err != nil {
			return err
		}
		for i := range cands {
			for _, k := range tr.k.Keys(cands[i].Fields) {
				if _, ok := byKey[k]; !ok && k != "" {
					byKey[k] = &cands[i]
				}
			}
		}
	}
	limit := tr.toggles.UpperLimit
	count := len(tr.byCRM)
	cat := rc.st.CategoryName
	// Tagged items first: an untagged twin must not take their match.
	sort.SliceStable(newG, func(i, j int) bool {
		return hasCategory(newG[i].Cats, cat) && !hasCategory(newG[j].Cats, cat)
	})
	for _, g := range newG {
		inScope := hasCategory(g.Cats, cat)
		if g.Skip != "" {
			rc.event(typ, 0, g.ID, ToCRM, g.Skip, "")
			continue
		}
		if !inScope && !(full && matching) {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedNoCategory, "")
			continue
		}
		var c *crmItem
		for _, key := range tr.k.Keys(g.Fields) {
			if x := byKey[key]; x != nil && key != "" && !claimed[x.ID] {
				c = x
				break
			}
		}
		if c != nil {
			// A twin exists: link instead of creating. An untagged item
			// matched on the first sync gets the category.
			claimed[c.ID] = true
			m := merge3(tr.k, fields{}, fields{}, c.Fields, g.Fields, tr.matchWinner(), lockedOf(g.Fields))
			l := &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID, GraphID: g.ID, ChangeKey: g.ETag,
				CrmVersion: c.Version, State: linkLinked, CrmSnapshot: c.Fields.json(), GraphSnapshot: g.Fields.json()}
			tr.byCRM[c.ID], tr.byGraph[g.ID] = l, l
			count++
			if !inScope {
				cats := append(append([]string{}, g.Cats...), cat)
				tr.ops = append(tr.ops, tr.categoryOp(l, cats))
			}
			if err := tr.apply(ctx, c, l, m, g.Fields, g.ETag, OutMerged); err != nil {
				return err
			}
			if len(m.toCRM) == 0 && len(m.toGraph) == 0 {
				rc.event(typ, c.ID, g.ID, "", OutMerged, "matched an existing record")
			}
			continue
		}
		if !inScope {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedNoCategory, "")
			continue
		}
		if !tr.toggles.CreateNew {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedCreateOff, "")
			continue
		}
		if limit > 0 && count >= limit {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedLimit, fmt.Sprintf("upper limit of %d reached", limit))
			continue
		}
		var created *crmItem
		err := tr.e.Store.Tx(ctx, func(ctx context.Context) error {
			c, err := tr.k.CreateCRM(ctx, tr, g.Fields)
			if err != nil {
				return err
			}
			created = c
			l := &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID, GraphID: g.ID, ChangeKey: g.ETag,
				CrmVersion: c.Version, State: linkLinked, CrmSnapshot: c.Fields.json(), GraphSnapshot: g.Fields.json()}
			if err := tr.saveLink(ctx, l); err != nil {
				return err
			}
			tr.byCRM[c.ID], tr.byGraph[g.ID] = l, l
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(typ, 0, g.ID, ToCRM, OutFailed, err.Error())
			tr.incomplete = true
			continue
		}
		count++
		claimed[created.ID] = true
		rc.event(typ, created.ID, g.ID, ToCRM, OutCreated, "")
	}
	return nil
}

func (tr *typeRun) matchWinner() string {
	if tr.policy == "client" {
		return "client"
	}
	return "server"
}

func (tr *typeRun) categoryOp(l *link, cats []string) graphOp {
	return graphOp{
		req: tr.k.CategoryReq(tr, l.GraphID, cats),
		done: func(ctx context.Context, r *graph.BatchResponse) error {
			if out, err := tr.k.Decode(tr, r); err == nil {
				l.ChangeKey = out.ETag
				return tr.saveLink(ctx, l)
			}
			return nil
		},
		fail: func(ctx context.Context, err error) error { return nil },
	}
}

// exportNew creates unlinked CRM records in Outlook. The pending link is
// committed first; the item carries the CRM id, so a lost response or a
// crash is recovered by lookup on the next run, never by a second create.
func (tr *typeRun) exportNew(ctx context.Context, newC []*crmItem, claimed map[int64]bool) error {
	limit := tr.toggles.UpperLimit
	count := len(tr.byCRM)
	// Most recently changed first when the limit bites.
	sort.SliceStable(newC, func(i, j int) bool { return newC[i].Version > newC[j].Version })
	// The pending links commit together, before any create is sent.
	return tr.e.Store.Tx(ctx, func(ctx context.Context) error {
		return tr.exportNewTx(ctx, newC, claimed, limit, count)
	})
}

func (tr *typeRun) exportNewTx(ctx context.Context, newC []*crmItem, claimed map[int64]bool, limit, count int) error {
	rc := tr.runCtx
	typ := tr.typ
	for _, c := range newC {
		if claimed[c.ID] {
			continue
		}
		existing := tr.byCRM[c.ID]
		if existing != nil && existing.State != linkPending {
			continue
		}
		if c.Skip != "" {
			if existing == nil {
				rc.event(typ, c.ID, "", ToO365, c.Skip, "")
			}
			continue
		}
		if !tr.toggles.CreateNew {
			rc.event(typ, c.ID, "", ToO365, OutSkippedCreateOff, "")
			continue
		}
		if existing == nil && limit > 0 && count >= limit {
			rc.event(typ, c.ID, "", ToO365, OutSkippedLimit, fmt.Sprintf("upper limit of %d reached", limit))
			continue
		}
		l := existing
		if l == nil {
			l = &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID}
		}
		l.State, l.CrmVersion, l.CrmSnapshot, l.GraphSnapshot = linkPending, c.Version, c.Fields.json(), "{}"
		if err := tr.saveLink(ctx, l); err != nil {
			return err
		}
		tr.byCRM[c.ID] = l
		count++
		tr.ops = append(tr.ops, graphOp{
			req: tr.k.CreateReq(tr, c.Fields, c.ID),
			done: func(ctx context.Context, r *graph.BatchResponse) error {
				out, err := tr.k.Decode(tr, r)
				if err != nil || out.ID == "" {
					return nil // stays pending: looked up next run
				}
				l.GraphID, l.ChangeKey, l.State = out.ID, out.ETag, linkLinked
				l.GraphSnapshot = out.Fields.json()
				l.AwaitingDelta = true
				tr.byGraph[out.ID] = l
				rc.event(typ, l.CrmID, l.GraphID, ToO365, OutCreated, "")
				return tr.saveLink(ctx, l)
			},
			fail: func(ctx context.Context, err error) error {
				rc.event(typ, l.CrmID, "", ToO365, OutFailed, err.Error())
				return nil
			},
		})
	}
	return nil
}

// flushOps sends the queued Outlook writes in $batch requests of up to 20.
// A request that fails as a whole fails its items; they are retried on the
// next run like any failed record.
func (tr *typeRun) flushOps(ctx context.Context) error {
	ops := tr.ops
	tr.ops = nil
	for start := 0; start < len(ops); start += graph.MaxBatchSize {
		end := min(start+graph.MaxBatchSize, len(ops))
		chunk := ops[start:end]
		reqs := make([]graph.BatchRequest, len(chunk))
		for i, op := range chunk {
			reqs[i] = op.req
		}
		t := time.Now()
		resps, err := tr.e.Graph.Batch(ctx, tr.gUser, reqs)
		tr.graphDur += time.Since(t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The outcomes of one batch are recorded in one transaction.
		t = time.Now()
		herr := tr.e.Store.Tx(ctx, func(ctx context.Context) error {
			return tr.record(ctx, chunk, resps, err)
		})
		tr.crmDur += time.Since(t)
		if herr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return herr
		}
		if err := tr.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (tr *typeRun) record(ctx context.Context, chunk []graphOp, resps []graph.BatchResponse, err error) error {
	{
		for i, op := range chunk {
			var rerr error
			var r *graph.BatchResponse
			switch {
			case err != nil:
				rerr = err
			case i >= len(resps):
				rerr = errors.New("missing from batch response")
			default:
				r = &resps[i]
				if r.Err != nil {
					rerr = r.Err
				} else if r.Status < 200 || r.Status > 299 {
					rerr = fmt.Errorf("status %d", r.Status)
				}
			}
			var herr error
			if rerr != nil {
				herr = op.fail(ctx, rerr)
			} else {
				herr = op.done(ctx, r)
			}
			if herr != nil {
				return herr
			}
		}
	}
	return nil
}
