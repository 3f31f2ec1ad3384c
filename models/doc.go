// Package models owns the CRM data model, the store and the dialect
// differences between SQLite and PostgreSQL.
package models
