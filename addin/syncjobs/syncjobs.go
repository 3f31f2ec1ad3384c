// Package syncjobs holds the argument types of the sync jobs that other
// features enqueue, so they need not import the sync engine itself.
package syncjobs

// PushKind is the River kind of PushArgs.
const PushKind = "sync.push"

// PushArgs asks the sync engine to push one CRM record to its owner's
// mailbox now (a contact or appointment changed in the panel). CrmID is the
// record's id; ObjectType is a models.Sync* type.
type PushArgs struct {
	UserID     int64  `json:"userId"`
	ObjectType string `json:"objectType"`
	CrmID      int64  `json:"crmId"`
}

// Kind is the River job kind.
func (PushArgs) Kind() string { return PushKind }
