package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegisterCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"SALESBRIDGE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sb.db"),
		"SALESBRIDGE_SECRET_KEY":   "register-test-secret-0123456789abcdef",
	}
	getenv := func(k string) string { return env[k] }
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("the-client-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"register", "--application-id", "0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0",
		"--application-key-file", keyFile, "--name", "Contoso Sales"}, &out, getenv)
	if err != nil || !strings.Contains(out.String(), "registered the add-in") {
		t.Fatalf("register: %v %s", err, out.String())
	}
	db, _ := os.ReadFile(filepath.Join(dir, "sb.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "sb.db-wal"))
	db = append(db, wal...)
	if bytes.Contains(db, []byte("the-client-secret")) {
		t.Fatal("client secret stored in clear")
	}
	if err := run(context.Background(), []string{"register", "--application-id", "nope", "--application-key", "x"}, &out, getenv); err == nil {
		t.Fatal("invalid application id accepted")
	}
}
