package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// BeforeSave stamps every create and update of a CRM record with the next
// CRM version (see Store.NextVersion), so the sync engine sees the change.
// The method is promoted to Account, Contact, Lead, Opportunity and Activity.
func (r *Record) BeforeSave(tx *gorm.DB) error {
	v, err := nextVersion(tx.Session(&gorm.Session{NewDB: true}))
	if err != nil {
		return err
	}
	r.Version = v
	tx.Statement.SetColumn("version", v)
	if r.Origin == "" {
		r.Origin = OriginManual
		tx.Statement.SetColumn("origin", OriginManual)
	}
	return nil
}

// SoftDelete marks a CRM record deleted and gives it a new version, so the
// deletion travels through sync like any other change. It returns not_found
// when the record does not exist or is already deleted.
func (s *Store) SoftDelete(ctx context.Context, table string, id int64) error {
	what, ok := softDeletable[table]
	if !ok {
		return Internal(errors.New("soft delete of unknown table " + table))
	}
	db := s.DB(ctx)
	v, err := nextVersion(db.Session(&gorm.Session{NewDB: true}))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	res := db.Exec("UPDATE "+table+" SET deleted_at = ?, updated_at = ?, version = ? WHERE id = ? AND deleted_at IS NULL",
		now, now, v, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return NotFound(what)
	}
	return nil
}

var softDeletable = map[string]string{
	"accounts":      "account",
	"contacts":      "contact",
	"leads":         "lead",
	"opportunities": "opportunity",
	"activities":    "activity",
}
