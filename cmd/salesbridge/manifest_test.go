package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/manifest/manifesttest"
	"github.com/salesbridge/salesbridge/models"
)

func TestManifestCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{
		"SALESBRIDGE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sb.db"),
		"SALESBRIDGE_PUBLIC_URL":   "https://crm.contoso.example",
		"SALESBRIDGE_SECRET_KEY":   "test-secret-key-0123456789abcdef0123456789",
	}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, &out, getenv); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "manifest.xml")
	err := run(ctx, []string{"manifest", "--out", file}, &out, getenv)
	if err == nil || !strings.Contains(err.Error(), "applicationId") {
		t.Fatalf("without a registration: %v", err)
	}

	s, err := models.Open(ctx, env["SALESBRIDGE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	reg := models.Registration{ID: 1, ApplicationID: "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", Name: "Contoso Sales", UpdatedAt: time.Now().UTC()}
	if err := s.DB(ctx).Create(&reg).Error; err != nil {
		t.Fatal(err)
	}
	s.Close()

	if err := run(ctx, []string{"manifest", "--out", file}, &out, getenv); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	manifesttest.ValidateXML(t, data)
	manifesttest.CheckXMLURLs(t, data, env["SALESBRIDGE_PUBLIC_URL"])

	jfile := filepath.Join(dir, "manifest.json")
	if err := run(ctx, []string{"manifest", "--format", "json", "--out", jfile}, &out, getenv); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(jfile)
	manifesttest.ValidateJSON(t, data)
}
