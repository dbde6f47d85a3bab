package main

import (
	"path/filepath"
	"testing"
)

// The namespace operations' answers (DRIVER.md "Namespaces"): results, fail codes, and the
// `unsupported` of a handle speaking 1.0.
func TestNamespaceOperations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	p := startFixture(t)
	p.must("create", `{"path":"`+path+`",`+testGeo+`}`, `"participant":1`)
	p.must("ns_get", `{"ns":0,"key_hex":"61"}`, `"ns_version":0`)
	p.must("ns_stage", `{"ns":0}`, `"version":1`)
	p.must("ns_put", `{"ns":0,"key_hex":"61","value_hex":"01"}`, `"ns_version":1`)
	p.must("ns_flip", `{"ns":0}`, `"previous":0`)
	p.must("ns_get", `{"ns":0,"key_hex":"61"}`, `"value_hex":"01"`)
	p.must("ns_pin", `{"ns":0}`, `"version":1`)
	p.must("ns_pin", `{"ns":1}`, `"reason":"pinned"`)
	p.must("ns_state", `{"ns":0}`, `"pins":[{"participant":1,"version":1}]`)
	p.must("ns_unpin", ``, `"version":1`)
	p.must("ns_rollback", `{"ns":0}`, `"reason":"no_previous"`)
	p.must("ns_put", `{"ns":0,"key_hex":"61","value_hex":"01"}`, `"reason":"not_staging"`)
	p.must("ns_reclaim", `{"ns":0}`, `"kept":[1]`)
	p.must("ns_get", `{"ns":8,"key_hex":"61"}`, `"reason":"bad_namespace"`)
	p.must("ns_get", `{"key_hex":"61"}`, `"kind":"bad_request"`)
	p.must("open", `{"path":"`+path+`","protocol":"1.0"}`, `"participant"`)
	p.must("ns_get", `{"ns":0,"key_hex":"61"}`, `"kind":"unsupported"`)
	p.must("ns_unpin", ``, `"kind":"unsupported"`)
	p.must("get", `{"key_hex":"ff57434e53010000010000000000000061"}`, `"value_hex":"01"`) // the prefixed key, as 1.0 sees it
}
