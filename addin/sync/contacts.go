package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/models"
)

// link is a sync_links row (with the scope flag added by migration 0500).
type link struct {
	ID            int64
	UserID        int64
	ObjectType    string
	CrmID         int64
	GraphID       string
	ChangeKey     string
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

// pair is one linked record seen in this run.
type pair struct {
	l        *link
	crm      *models.Contact // nil: not loaded (unchanged) or gone
	crmGone  bool            // deleted in the CRM (or no longer the user's)
	g        *graph.Contact  // nil: not in the delta (unchanged)
	gRemoved bool
}

// graphOp is one Outlook write of a run, sent in a $batch.
type graphOp struct {
	req  graph.BatchRequest
	done func(ctx context.Context, r *graph.BatchResponse) error
	fail func(ctx context.Context, err error) error
}

type contactRun struct {
	*runCtx
	cur        models.SyncCursor
	links      []*link
	byCRM      map[int64]*link
	byGraph    map[string]*link
	accounts   map[int64]string
	ops        []graphOp
	incomplete bool // an incoming change was not applied: keep the delta link
}

func (e *Engine) syncContacts(ctx context.Context, rc *runCtx) error {
	typ := models.SyncContact
	cr := &contactRun{runCtx: rc, byCRM: map[int64]*link{}, byGraph: map[string]*link{}, accounts: map[int64]string{}}
	db := e.Store.DB(ctx)
	t0 := time.Now()
	res := db.Where("user_id = ? AND object_type = ?", rc.userID, typ).Limit(1).Find(&cr.cur)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		cr.cur = models.SyncCursor{UserID: rc.userID, ObjectType: typ}
	}
	// The watermark this run will save: every change committed later
	// carries a higher version (see the package comment).
	watermark, err := e.Store.CurrentVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.Where("user_id = ? AND object_type = ?", rc.userID, typ).Find(&cr.links).Error; err != nil {
		return err
	}
	for _, l := range cr.links {
		cr.byCRM[l.CrmID] = l
		if l.GraphID != "" {
			cr.byGraph[l.GraphID] = l
		}
	}
	rc.crmDur += time.Since(t0)

	// 1. Pending links: a create in Outlook whose outcome is unknown. Look
	// the item up by the CRM id it carries before anything else.
	var recreate []*link
	for _, l := range cr.links {
		if l.State != linkPending {
			continue
		}
		t := time.Now()
		it, err := e.Graph.FindContactByCRMID(ctx, rc.gUser, strconv.FormatInt(l.CrmID, 10))
		rc.graphDur += time.Since(t)
		switch {
		case err == nil:
			l.GraphID, l.ChangeKey, l.State = it.ID, it.ChangeKey, linkLinked
			l.GraphSnapshot = graphContactFields(it).json()
			l.AwaitingDelta = true
			if err := cr.saveLink(ctx, l); err != nil {
				return err
			}
			cr.byGraph[l.GraphID] = l
		case errors.Is(err, graph.ErrNotFound):
			recreate = append(recreate, l)
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(typ, l.CrmID, "", ToO365, OutFailed, "lookup of a pending create: "+err.Error())
		}
	}

	// 2. Outlook changes.
	t := time.Now()
	full := cr.cur.DeltaLink == ""
	delta, err := e.Graph.ContactsDelta(ctx, rc.gUser, graph.DeltaOptions{Link: cr.cur.DeltaLink})
	if errors.Is(err, graph.ErrResyncRequired) {
		// The sync state expired: enumerate again and match by link.
		full = true
		delta, err = e.Graph.ContactsDelta(ctx, rc.gUser, graph.DeltaOptions{})
	}
	rc.graphDur += time.Since(t)
	if err != nil {
		return err
	}

	// 3. CRM changes: above the watermark, or linked with another version.
	t = time.Now()
	var changed []models.Contact
	err = db.Unscoped().Where("owner_id = ? AND (version > ? OR EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = contacts.id AND l.crm_version <> contacts.version))",
		rc.userID, cr.cur.CrmWatermark, rc.userID, typ).Order("id").Find(&changed).Error
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
	var newG []*graph.Contact
	seenG := map[string]bool{}
	for i := range delta.Items {
		g := &delta.Items[i]
		seenG[g.ID] = true
		l := cr.byGraph[g.ID]
		if g.Removed != nil {
			if l != nil {
				pairOf(l).gRemoved = true
			}
			continue
		}
		if l != nil {
			pairOf(l).g = g
			continue
		}
		newG = append(newG, g)
	}
	for _, l := range cr.links {
		if l.State == linkPending || l.GraphID == "" {
			continue
		}
		switch {
		case !seenG[l.GraphID] && (l.AwaitingDelta || full && cr.cur.DeltaLink != ""):
			// Created by us after the token, or present before a resync,
			// yet not reported: the user deleted it.
			pairOf(l).gRemoved = true
		case seenG[l.GraphID] && l.AwaitingDelta:
			l.AwaitingDelta = false
			if err := cr.saveLink(ctx, l); err != nil {
				return err
			}
		}
	}
	var newC []*models.Contact
	recreateSet := map[int64]*link{}
	for _, l := range recreate {
		recreateSet[l.CrmID] = l
	}
	for i := range changed {
		c := &changed[i]
		if l := cr.byCRM[c.ID]; l != nil && l.State != linkPending {
			p := pairOf(l)
			p.crm = c
			p.crmGone = c.DeletedAt.Valid
			continue
		}
		if c.DeletedAt.Valid {
			if l := recreateSet[c.ID]; l != nil {
				delete(recreateSet, c.ID)
				_ = cr.deleteLink(ctx, l)
			}
			continue
		}
		if cr.byCRM[c.ID] != nil && recreateSet[c.ID] == nil {
			continue // pending link whose lookup failed: retried next run
		}
		newC = append(newC, c)
		delete(recreateSet, c.ID)
	}
	for _, l := range recreateSet { // pending creates of unchanged records
		var c models.Contact
		if err := db.Unscoped().Where("id = ? AND owner_id = ?", l.CrmID, rc.userID).Limit(1).Find(&c).Error; err != nil {
			return err
		}
		if c.ID == 0 || c.DeletedAt.Valid {
			_ = cr.deleteLink(ctx, l)
			continue
		}
		newC = append(newC, &c)
	}
	// Load the CRM side of pairs that changed only in Outlook.
	var need []int64
	for _, p := range pairs {
		if p.crm == nil {
			need = append(need, p.l.CrmID)
		}
	}
	if len(need) > 0 {
		var cs []models.Contact
		if err := db.Unscoped().Where("id IN ?", need).Find(&cs).Error; err != nil {
			return err
		}
		byID := map[int64]*models.Contact{}
		for i := range cs {
			byID[cs[i].ID] = &cs[i]
		}
		for _, p := range pairs {
			if p.crm == nil {
				c := byID[p.l.CrmID]
				if c == nil || c.DeletedAt.Valid || c.OwnerID != rc.userID {
					p.crmGone = true
				}
				p.crm = c
			}
		}
	}
	if err := cr.loadAccounts(ctx, changed, pairs); err != nil {
		return err
	}

	// 4. Deletes, with the safety brake.
	var delCRM, delGraph []*pair
	ids := make([]int64, 0, len(pairs))
	for id := range pairs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var updates []*pair
	for _, id := range ids {
		p := pairs[id]
		switch {
		case p.gRemoved && p.l.OutOfScope:
			rc.event(typ, p.l.CrmID, p.l.GraphID, ToCRM, OutSkippedNoCategory, "deleted in Outlook while out of scope; the CRM record is kept")
			if err := cr.deleteLink(ctx, p.l); err != nil {
				return err
			}
		case p.crmGone && p.l.OutOfScope && (p.g == nil || !hasCategory(p.g.Categories, rc.st.CategoryName)):
			rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutSkippedNoCategory, "deleted in the CRM while out of scope; the Outlook item is kept")
			if err := cr.deleteLink(ctx, p.l); err != nil {
				return err
			}
		case p.gRemoved && p.crmGone:
			if err := cr.deleteLink(ctx, p.l); err != nil {
				return err
			}
		case p.gRemoved:
			if !rc.st.Contacts.DeleteOld {
				rc.event(typ, p.l.CrmID, p.l.GraphID, ToCRM, OutSkippedDeleteOff, "deleted in Outlook; Delete Old Records is off")
				if err := cr.deleteLink(ctx, p.l); err != nil {
					return err
				}
				continue
			}
			delCRM = append(delCRM, p)
		case p.crmGone:
			if !rc.st.Contacts.DeleteOld {
				rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutSkippedDeleteOff, "deleted in the CRM; Delete Old Records is off")
				if err := cr.deleteLink(ctx, p.l); err != nil {
					return err
				}
				continue
			}
			if p.crm != nil && (p.crm.Origin == models.OriginImport || p.crm.Origin == models.OriginMerge) {
				rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutSkippedDeleteOff, "record of origin "+p.crm.Origin+" is never deleted in Outlook")
				if err := cr.deleteLink(ctx, p.l); err != nil {
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
		synced := len(cr.links)
		if n >= rc.st.DeleteBrakeMinimum && n*100 > rc.st.DeleteBrakePercent*synced {
			braked = true
			msg := fmt.Sprintf("safety brake: the run would delete %d of %d synced contacts; nothing deleted, user set to needs review", n, synced)
			for _, p := range append(delCRM, delGraph...) {
				dir := ToCRM
				if p.crmGone {
					dir = ToO365
				}
				rc.event(typ, p.l.CrmID, p.l.GraphID, dir, OutBrake, msg)
			}
			if err := db.Model(&models.UserMapping{}).Where("user_id = ?", rc.userID).
				Updates(map[string]any{"sync_state": models.SyncNeedsReview, "updated_at": e.now()}).Error; err != nil {
				return err
			}
			e.log().Warn("sync safety brake", "user", rc.userID, "type", typ, "deletes", n, "synced", synced)
			delCRM, delGraph = nil, nil
		}
	}
	for _, p := range delCRM {
		err := e.Store.Tx(ctx, func(ctx context.Context) error {
			if p.crm != nil && !p.crm.DeletedAt.Valid {
				if err := e.Store.SoftDelete(ctx, "contacts", p.l.CrmID); err != nil && models.ErrorCode(err) != models.CodeNotFound {
					return err
				}
			}
			return e.Store.DB(ctx).Delete(&link{}, p.l.ID).Error
		})
		if err != nil {
			rc.event(typ, p.l.CrmID, p.l.GraphID, ToCRM, OutFailed, err.Error())
			cr.incomplete = true
			continue
		}
		rc.event(typ, p.l.CrmID, p.l.GraphID, ToCRM, OutDeleted, "deleted in Outlook")
	}
	for _, p := range delGraph {
		p := p
		cr.ops = append(cr.ops, graphOp{
			req: graph.DeleteContactRequest(p.l.GraphID),
			done: func(ctx context.Context, _ *graph.BatchResponse) error {
				rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutDeleted, "deleted in the CRM")
				return cr.deleteLink(ctx, p.l)
			},
			fail: func(ctx context.Context, err error) error {
				if errors.Is(err, graph.ErrNotFound) {
					rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutDeleted, "deleted in the CRM (already gone in Outlook)")
					return cr.deleteLink(ctx, p.l)
				}
				rc.event(typ, p.l.CrmID, p.l.GraphID, ToO365, OutFailed, err.Error())
				return nil // the link keeps its version: retried next run
			},
		})
	}

	// 5. Linked records changed on either side.
	for _, p := range updates {
		if err := cr.reconcile(ctx, p); err != nil {
			return err
		}
	}

	// 6. New Outlook contacts: match, then create in the CRM.
	claimed := map[int64]bool{}
	if len(newG) > 0 {
		if err := cr.importNew(ctx, newG, full, claimed); err != nil {
			return err
		}
	}

	// 7. New CRM contacts: create in Outlook.
	if err := cr.exportNew(ctx, newC, claimed); err != nil {
		return err
	}

	// 8. Outlook writes in $batch.
	if err := cr.flushOps(ctx); err != nil {
		return err
	}

	// 9. Cursor.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cr.cur.CrmWatermark = watermark
	cr.cur.FirstSyncDone = true
	if !cr.incomplete && !braked {
		cr.cur.DeltaLink = delta.DeltaLink
	}
	cr.cur.UpdatedAt = e.now()
	if err := db.Save(&cr.cur).Error; err != nil {
		return err
	}
	return rc.flush(ctx)
}

func (cr *contactRun) saveLink(ctx context.Context, l *link) error {
	l.UpdatedAt = cr.e.now()
	if l.ID == 0 {
		l.CreatedAt = l.UpdatedAt
		return cr.e.Store.DB(ctx).Create(l).Error
	}
	return cr.e.Store.DB(ctx).Save(l).Error
}

func (cr *contactRun) deleteLink(ctx context.Context, l *link) error {
	delete(cr.byCRM, l.CrmID)
	if l.GraphID != "" {
		delete(cr.byGraph, l.GraphID)
	}
	return cr.e.Store.DB(ctx).Delete(&link{}, l.ID).Error
}

func (cr *contactRun) loadAccounts(ctx context.Context, changed []models.Contact, pairs map[int64]*pair) error {
	var ids []int64
	add := func(c *models.Contact) {
		if c != nil && c.AccountID != nil {
			ids = append(ids, *c.AccountID)
		}
	}
	for i := range changed {
		add(&changed[i])
	}
	for _, p := range pairs {
		add(p.crm)
	}
	if len(ids) == 0 {
		return nil
	}
	var accs []models.Account
	if err := cr.e.Store.DB(ctx).Unscoped().Select("id", "name").Where("id IN ?", ids).Find(&accs).Error; err != nil {
		return err
	}
	for _, a := range accs {
		cr.accounts[a.ID] = a.Name
	}
	return nil
}

func (cr *contactRun) crmFields(c *models.Contact) fields {
	company := ""
	if c.AccountID != nil {
		company = cr.accounts[*c.AccountID]
	}
	return crmContactFields(c, company)
}

// reconcile merges one linked pair that changed on either side.
func (cr *contactRun) reconcile(ctx context.Context, p *pair) error {
	typ := models.SyncContact
	rc := cr.runCtx
	l := p.l
	cat := rc.st.CategoryName
	if p.g != nil && !hasCategory(p.g.Categories, cat) {
		if !l.OutOfScope {
			l.OutOfScope = true
			rc.event(typ, l.CrmID, l.GraphID, "", OutSkippedNoCategory, "the category was removed in Outlook; the pair is kept but not synced")
			return cr.saveLink(ctx, l)
		}
		return nil
	}
	if p.g == nil && l.OutOfScope {
		return nil // still out of scope; the CRM change waits for the category
	}
	if l.State == linkHeld {
		return cr.updateHeld(ctx, p)
	}
	crmNow := cr.crmFields(p.crm)
	graphNow := parseFields(l.GraphSnapshot)
	changeKey := l.ChangeKey
	if p.g != nil {
		graphNow = graphContactFields(p.g)
		changeKey = p.g.ChangeKey
	}
	crmBase, graphBase := parseFields(l.CrmSnapshot), parseFields(l.GraphSnapshot)
	winner := rc.policy
	m := merge3(contactFields, crmBase, graphBase, crmNow, graphNow, winner)
	if len(m.conflicts) > 0 && rc.policy == "user" {
		return cr.hold(ctx, p, m, crmNow, graphNow, changeKey)
	}
	l.OutOfScope = false
	return cr.apply(ctx, p.crm, l, m, crmNow, graphNow, changeKey, OutUpdated)
}

// apply writes a merge result: the CRM side in one transaction with the
// link, then the Outlook side as a batched PATCH.
func (cr *contactRun) apply(ctx context.Context, c *models.Contact, l *link, m mergeResult, crmNow, graphNow fields, changeKey, outcome string) error {
	typ := models.SyncContact
	rc := cr.runCtx
	msg := ""
	if len(m.conflicts) > 0 {
		outcome = OutMerged
		msg = fmt.Sprintf("conflicting fields %v settled by policy %s", m.conflicts, rc.policy)
	}
	t := time.Now()
	err := cr.e.Store.Tx(ctx, func(ctx context.Context) error {
		if len(m.toCRM) > 0 {
			applyToContact(c, m.result)
			if err := cr.e.Store.DB(ctx).Save(c).Error; err != nil {
				return err
			}
		}
		l.CrmVersion = c.Version
		l.CrmSnapshot = m.result.json()
		l.GraphSnapshot = graphNow.json()
		l.ChangeKey = changeKey
		l.State = linkLinked
		if len(m.toGraph) > 0 {
			// Until Outlook confirms, the pair is revisited every run.
			l.CrmVersion = staleVersion
		}
		return cr.saveLink(ctx, l)
	})
	rc.crmDur += time.Since(t)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rc.event(typ, l.CrmID, l.GraphID, ToCRM, OutFailed, err.Error())
		cr.incomplete = true
		return nil
	}
	if len(m.toCRM) > 0 {
		rc.event(typ, l.CrmID, l.GraphID, ToCRM, outcome, msg)
	}
	if len(m.toGraph) == 0 {
		return nil
	}
	patch := contactPatch(m.toGraph, m.result, graphNow)
	version := c.Version
	cr.ops = append(cr.ops, graphOp{
		req: graph.UpdateContactRequest(l.GraphID, patch, graph.ETagFromChangeKey(changeKey)),
		done: func(ctx context.Context, r *graph.BatchResponse) error {
			var out graph.Contact
			if err := r.Decode(&out); err != nil {
				return nil // applied; the next delta brings the new state
			}
			l.ChangeKey = out.ChangeKey
			l.GraphSnapshot = graphContactFields(&out).json()
			l.CrmVersion = version
			rc.event(typ, l.CrmID, l.GraphID, ToO365, outcome, msg)
			return cr.saveLink(ctx, l)
		},
		fail: func(ctx context.Context, err error) error {
			rc.event(typ, l.CrmID, l.GraphID, ToO365, OutFailed, err.Error())
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

func (cr *contactRun) hold(ctx context.Context, p *pair, m mergeResult, crmNow, graphNow fields, changeKey string) error {
	l := p.l
	doc := conflictDoc{Fields: map[string]conflictField{}, CRM: crmNow, Graph: graphNow, ChangeKey: changeKey}
	for _, k := range m.conflicts {
		doc.Fields[k] = conflictField{Server: crmNow[k], Client: graphNow[k]}
	}
	b, _ := json.Marshal(doc)
	err := cr.e.Store.Tx(ctx, func(ctx context.Context) error {
		l.State = linkHeld
		if err := cr.saveLink(ctx, l); err != nil {
			return err
		}
		return cr.e.Store.DB(ctx).Create(&models.SyncConflict{UserID: cr.userID, LinkID: l.ID, ObjectType: l.ObjectType,
			CrmID: l.CrmID, Fields: string(b), Status: "open", CreatedAt: cr.e.now()}).Error
	})
	if err != nil {
		return err
	}
	cr.event(models.SyncContact, l.CrmID, l.GraphID, "", OutConflict, fmt.Sprintf("fields %v changed on both sides; held for the user", m.conflicts))
	return nil
}

// updateHeld keeps a held conflict current with the latest Outlook state.
func (cr *contactRun) updateHeld(ctx context.Context, p *pair) error {
	l := p.l
	cr.event(models.SyncContact, l.CrmID, l.GraphID, "", OutConflict, "held until the user resolves the conflict")
	if p.g == nil {
		return nil
	}
	var sc models.SyncConflict
	if err := cr.e.Store.DB(ctx).Where("link_id = ? AND status = 'open'", l.ID).Limit(1).Find(&sc).Error; err != nil || sc.ID == 0 {
		return err
	}
	var doc conflictDoc
	_ = json.Unmarshal([]byte(sc.Fields), &doc)
	doc.Graph = graphContactFields(p.g)
	doc.ChangeKey = p.g.ChangeKey
	for k, f := range doc.Fields {
		f.Client = doc.Graph[k]
		doc.Fields[k] = f
	}
	b, _ := json.Marshal(doc)
	return cr.e.Store.DB(ctx).Model(&models.SyncConflict{}).Where("id = ?", sc.ID).Update("fields", string(b)).Error
}

// importNew handles Outlook contacts without a link: match on first + last
// name + email against the user's unlinked CRM contacts, else create.
func (cr *contactRun) importNew(ctx context.Context, newG []*graph.Contact, full bool, claimed map[int64]bool) error {
	typ := models.SyncContact
	rc := cr.runCtx
	var cands []models.Contact
	if err := cr.e.Store.DB(ctx).Where("owner_id = ? AND NOT EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = contacts.id)",
		rc.userID, rc.userID, typ).Order("id").Find(&cands).Error; err != nil {
		return err
	}
	byKey := map[string]*models.Contact{}
	var accIDs []models.Contact
	for i := range cands {
		accIDs = append(accIDs, cands[i])
	}
	if err := cr.loadAccounts(ctx, accIDs, nil); err != nil {
		return err
	}
	for i := range cands {
		k := contactKey(cr.crmFields(&cands[i]))
		if _, ok := byKey[k]; !ok && k != "" {
			byKey[k] = &cands[i]
		}
	}
	limit := rc.st.Contacts.UpperLimit
	count := len(cr.byCRM)
	cat := rc.st.CategoryName
	// Tagged items first: an untagged twin must not take their match.
	sort.SliceStable(newG, func(i, j int) bool {
		return hasCategory(newG[i].Categories, cat) && !hasCategory(newG[j].Categories, cat)
	})
	for _, g := range newG {
		gf := graphContactFields(g)
		inScope := hasCategory(g.Categories, cat)
		if !inScope && !full {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedNoCategory, "")
			continue
		}
		if c := byKey[contactKey(gf)]; c != nil && !claimed[c.ID] {
			// A twin exists: link instead of creating. An uncategorized
			// item matched on the first sync gets the category.
			claimed[c.ID] = true
			delete(byKey, contactKey(gf))
			crmNow := cr.crmFields(c)
			m := merge3(contactFields, fields{}, fields{}, crmNow, gf, cr.matchWinner())
			l := &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID, GraphID: g.ID, ChangeKey: g.ChangeKey,
				CrmVersion: c.Version, State: linkLinked, CrmSnapshot: crmNow.json(), GraphSnapshot: gf.json()}
			cr.byCRM[c.ID], cr.byGraph[g.ID] = l, l
			count++
			if !inScope {
				cats := append(append([]string{}, g.Categories...), cat)
				cr.ops = append(cr.ops, cr.categoryOp(l, cats))
			}
			if err := cr.apply(ctx, c, l, m, crmNow, gf, g.ChangeKey, OutMerged); err != nil {
				return err
			}
			if len(m.toCRM) == 0 && len(m.toGraph) == 0 {
				rc.event(typ, c.ID, g.ID, "", OutMerged, "matched on first name, last name and email")
			}
			continue
		}
		if !inScope {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedNoCategory, "")
			continue
		}
		if !rc.st.Contacts.CreateNew {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedCreateOff, "")
			continue
		}
		if limit > 0 && count >= limit {
			rc.event(typ, 0, g.ID, ToCRM, OutSkippedLimit, fmt.Sprintf("upper limit of %d contacts reached", limit))
			continue
		}
		c := &models.Contact{Record: models.Record{OwnerID: rc.userID, Origin: models.OriginSync}}
		applyToContact(c, gf)
		err := cr.e.Store.Tx(ctx, func(ctx context.Context) error {
			if err := cr.e.Store.DB(ctx).Create(c).Error; err != nil {
				return err
			}
			snap := gf
			l := &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID, GraphID: g.ID, ChangeKey: g.ChangeKey,
				CrmVersion: c.Version, State: linkLinked, CrmSnapshot: cr.crmFields(c).json(), GraphSnapshot: snap.json()}
			if err := cr.saveLink(ctx, l); err != nil {
				return err
			}
			cr.byCRM[c.ID], cr.byGraph[g.ID] = l, l
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(typ, 0, g.ID, ToCRM, OutFailed, err.Error())
			cr.incomplete = true
			continue
		}
		count++
		claimed[c.ID] = true
		rc.event(typ, c.ID, g.ID, ToCRM, OutCreated, "")
	}
	return nil
}

func (cr *contactRun) matchWinner() string {
	if cr.policy == "client" {
		return "client"
	}
	return "server"
}

func (cr *contactRun) categoryOp(l *link, cats []string) graphOp {
	return graphOp{
		req: graph.UpdateContactRequest(l.GraphID, graph.Patch{"categories": cats}, ""),
		done: func(ctx context.Context, r *graph.BatchResponse) error {
			var out graph.Contact
			if r.Decode(&out) == nil {
				l.ChangeKey = out.ChangeKey
				return cr.saveLink(ctx, l)
			}
			return nil
		},
		fail: func(ctx context.Context, err error) error { return nil },
	}
}

// exportNew creates unlinked CRM contacts in Outlook. The pending link is
// committed first; the item carries the CRM id, so a lost response or a
// crash is recovered by lookup on the next run, never by a second create.
func (cr *contactRun) exportNew(ctx context.Context, newC []*models.Contact, claimed map[int64]bool) error {
	typ := models.SyncContact
	rc := cr.runCtx
	limit := rc.st.Contacts.UpperLimit
	count := len(cr.byCRM)
	// Most recently changed first when the limit bites.
	sort.SliceStable(newC, func(i, j int) bool { return newC[i].Version > newC[j].Version })
	var accs []models.Contact
	for _, c := range newC {
		accs = append(accs, *c)
	}
	if err := cr.loadAccounts(ctx, accs, nil); err != nil {
		return err
	}
	for _, c := range newC {
		if claimed[c.ID] {
			continue
		}
		existing := cr.byCRM[c.ID]
		if existing != nil && existing.State != linkPending {
			continue
		}
		if !rc.st.Contacts.CreateNew {
			rc.event(typ, c.ID, "", ToO365, OutSkippedCreateOff, "")
			continue
		}
		if existing == nil && limit > 0 && count >= limit {
			rc.event(typ, c.ID, "", ToO365, OutSkippedLimit, fmt.Sprintf("upper limit of %d contacts reached", limit))
			continue
		}
		f := cr.crmFields(c)
		l := existing
		if l == nil {
			l = &link{UserID: rc.userID, ObjectType: typ, CrmID: c.ID}
		}
		l.State, l.CrmVersion, l.CrmSnapshot, l.GraphSnapshot = linkPending, c.Version, f.json(), "{}"
		if err := cr.saveLink(ctx, l); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rc.event(typ, c.ID, "", ToO365, OutFailed, err.Error())
			continue
		}
		cr.byCRM[c.ID] = l
		count++
		cr.ops = append(cr.ops, graphOp{
			req: graph.CreateContactRequest(newGraphContact(f, rc.st.CategoryName, strconv.FormatInt(c.ID, 10))),
			done: func(ctx context.Context, r *graph.BatchResponse) error {
				var out graph.Contact
				if err := r.Decode(&out); err != nil || out.ID == "" {
					return nil // stays pending: looked up next run
				}
				l.GraphID, l.ChangeKey, l.State = out.ID, out.ChangeKey, linkLinked
				l.GraphSnapshot = graphContactFields(&out).json()
				l.AwaitingDelta = true
				cr.byGraph[out.ID] = l
				rc.event(typ, l.CrmID, l.GraphID, ToO365, OutCreated, "")
				return cr.saveLink(ctx, l)
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
func (cr *contactRun) flushOps(ctx context.Context) error {
	ops := cr.ops
	cr.ops = nil
	for start := 0; start < len(ops); start += graph.MaxBatchSize {
		end := min(start+graph.MaxBatchSize, len(ops))
		chunk := ops[start:end]
		reqs := make([]graph.BatchRequest, len(chunk))
		for i, op := range chunk {
			reqs[i] = op.req
		}
		t := time.Now()
		resps, err := cr.e.Graph.Batch(ctx, cr.gUser, reqs)
		cr.graphDur += time.Since(t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
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
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return herr
			}
		}
		if err := cr.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}
