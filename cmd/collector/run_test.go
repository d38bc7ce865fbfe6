package main

import (
	"path/filepath"
	"testing"
)

// The example configurations in deploy/ must load and map to a valid
// collector configuration.
func TestDeployExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../../deploy/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploy/*.yaml: %v", err)
	}
	for _, f := range files {
		cfg, err := loadConfig(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		cc := collectorConfig(cfg)
		if err := cc.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
