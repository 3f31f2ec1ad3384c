// Package manifest builds the Outlook add-in manifests an administrator
// downloads after registering the add-in: the XML add-in-only manifest
// (OfficeApp MailApp with VersionOverrides 1.0 and a nested 1.1) and the
// unified JSON app manifest for Microsoft 365.
//
// It owns the shape of both documents and the checks on what goes into them
// (application id, display name, public URL, version). It knows nothing of HTTP
// or storage: callers pass an Input and get bytes, warnings for the
// administrator, or a *ValidationError naming the offending fields.
//
// The XML manifest is kept to what Microsoft's published XSDs describe
// (../shared/conformance/manifest-xsd), so that the manifesttest helper can
// validate it with xmllint.
package manifest

//go:generate go run ./internal/icongen -out ../../assets/web/icons
