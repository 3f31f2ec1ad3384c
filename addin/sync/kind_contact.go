package sync

import (
	"context"
	"strconv"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// contactKind syncs CRM contacts with the default contacts folder.
type contactKind struct{}

var _ kind = contactKind{}

func (contactKind) Type() string                                   { return models.SyncContact }
func (contactKind) Names() []string                                { return contactFields }
func (contactKind) PushOnly(f string) bool                         { return pushOnly[f] }
func (contactKind) Toggles(st settings.Settings) settings.TypeSync { return st.Contacts }
func (contactKind) Prepare(context.Context, *typeRun) error        { return nil }
func (contactKind) Keys(f fields) []string                         { return []string{contactKey(f)} }

func toContactItem(g *graph.Contact) gItem {
	return gItem{ID: g.ID, ETag: g.ETag, Removed: g.Removed != nil, Cats: g.Categories, Fields: graphContactFields(g)}
}

func (contactKind) Delta(ctx context.Context, tr *typeRun, link string) ([]gItem, string, error) {
	res, err := tr.e.Graph.ContactsDelta(ctx, tr.gUser, graph.DeltaOptions{Link: link})
	if err != nil {
		return nil, "", err
	}
	out := make([]gItem, len(res.Items))
	for i := range res.Items {
		out[i] = toContactItem(&res.Items[i])
	}
	return out, res.DeltaLink, nil
}

func (contactKind) Find(ctx context.Context, tr *typeRun, crmID int64) (*gItem, error) {
	it, err := tr.e.Graph.FindContactByCRMID(ctx, tr.gUser, strconv.FormatInt(crmID, 10))
	if err != nil {
		return nil, err
	}
	g := toContactItem(it)
	return &g, nil
}

// Confirm: a contacts delta reports only real deletions.
func (contactKind) Confirm(_ context.Context, _ *typeRun, ids []string) (map[string]string, error) {
	return allDeleted(ids), nil
}

func (k contactKind) toItems(ctx context.Context, tr *typeRun, cs []models.Contact) ([]crmItem, error) {
	accIDs := []int64{}
	for _, c := range cs {
		if c.AccountID != nil {
			accIDs = append(accIDs, *c.AccountID)
		}
	}
	names := map[int64]string{}
	if len(accIDs) > 0 {
		var accs []models.Account
		if err := tr.e.Store.DB(ctx).Unscoped().Select("id", "name").Where("id IN ?", accIDs).Find(&accs).Error; err != nil {
			return nil, err
		}
		for _, a := range accs {
			names[a.ID] = a.Name
		}
	}
	out := make([]crmItem, len(cs))
	for i := range cs {
		c := &cs[i]
		company := ""
		if c.AccountID != nil {
			company = names[*c.AccountID]
		}
		out[i] = crmItem{ID: c.ID, Version: c.Version, OwnerID: c.OwnerID, Deleted: c.DeletedAt.Valid,
			Origin: c.Origin, Fields: crmContactFields(c, company)}
	}
	return out, nil
}

func (k contactKind) Changed(ctx context.Context, tr *typeRun, watermark int64) ([]crmItem, error) {
	var cs []models.Contact
	err := tr.e.Store.DB(ctx).Unscoped().Where("owner_id = ? AND (version > ? OR EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = contacts.id AND l.crm_version <> contacts.version))",
		tr.userID, watermark, tr.userID, models.SyncContact).Order("id").Find(&cs).Error
	if err != nil {
		return nil, err
	}
	return k.toItems(ctx, tr, cs)
}

func (k contactKind) Load(ctx context.Context, tr *typeRun, ids []int64) (map[int64]*crmItem, error) {
	var cs []models.Contact
	if err := tr.e.Store.DB(ctx).Unscoped().Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, err
	}
	items, err := k.toItems(ctx, tr, cs)
	if err != nil {
		return nil, err
	}
	out := map[int64]*crmItem{}
	for i := range items {
		out[items[i].ID] = &items[i]
	}
	return out, nil
}

func (k contactKind) Candidates(ctx context.Context, tr *typeRun) ([]crmItem, error) {
	var cs []models.Contact
	if err := tr.e.Store.DB(ctx).Where("owner_id = ? AND NOT EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = contacts.id)",
		tr.userID, tr.userID, models.SyncContact).Order("id").Find(&cs).Error; err != nil {
		return nil, err
	}
	return k.toItems(ctx, tr, cs)
}

func (contactKind) CreateCRM(ctx context.Context, tr *typeRun, f fields) (*crmItem, error) {
	c := &models.Contact{Record: models.Record{OwnerID: tr.userID, Origin: models.OriginSync}}
	applyToContact(c, f)
	if err := tr.e.Store.DB(ctx).Create(c).Error; err != nil {
		return nil, err
	}
	cf := crmContactFields(c, "")
	return &crmItem{ID: c.ID, Version: c.Version, OwnerID: c.OwnerID, Origin: c.Origin, Fields: cf}, nil
}

func (contactKind) UpdateCRM(ctx context.Context, tr *typeRun, id int64, f fields) (int64, error) {
	var c models.Contact
	if err := tr.e.Store.DB(ctx).First(&c, id).Error; err != nil {
		return 0, err
	}
	applyToContact(&c, f)
	if err := tr.e.Store.DB(ctx).Save(&c).Error; err != nil {
		return 0, err
	}
	return c.Version, nil
}

func (contactKind) DeleteCRM(ctx context.Context, tr *typeRun, id int64) error {
	return tr.e.Store.SoftDelete(ctx, "contacts", id)
}

func (contactKind) CreateReq(tr *typeRun, f fields, crmID int64) graph.BatchRequest {
	return graph.CreateContactRequest(newGraphContact(f, tr.st.CategoryName, strconv.FormatInt(crmID, 10)))
}

func (contactKind) PatchReq(_ *typeRun, id string, changed []string, want, have fields, etag string) graph.BatchRequest {
	return graph.UpdateContactRequest(id, contactPatch(changed, want, have), etag)
}

func (contactKind) DeleteReq(_ *typeRun, id string) graph.BatchRequest {
	return graph.DeleteContactRequest(id)
}

func (contactKind) CategoryReq(_ *typeRun, id string, cats []string) graph.BatchRequest {
	return graph.UpdateContactRequest(id, graph.Patch{"categories": cats}, "")
}

func (contactKind) Decode(_ *typeRun, r *graph.BatchResponse) (*gItem, error) {
	var out graph.Contact
	if err := r.Decode(&out); err != nil {
		return nil, err
	}
	g := toContactItem(&out)
	return &g, nil
}
