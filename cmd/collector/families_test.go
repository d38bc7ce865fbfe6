package main

import (
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/config"
)

// TestConfigFamilyNames: the family names config accepts in
// collector.peers[].families are those of the families the collector
// decodes, and each becomes that family.
func TestConfigFamilyNames(t *testing.T) {
	var names []string
	for _, f := range collector.Families {
		names = append(names, f.String())
	}
	if !slices.Equal(names, config.FamilyNames) {
		t.Errorf("config.FamilyNames %q, collector.Families %q", config.FamilyNames, names)
	}
	cfg := config.Default()
	cfg.Collector.Peers[0].Families = config.FamilyNames
	cfg.Collector.Peers[0].AddPath = "off"
	rule := collectorConfig(cfg).Peers[0]
	if !slices.Equal(rule.Families, collector.Families) || !rule.NoAddPath {
		t.Errorf("rule from families %q, add_path off: %+v", config.FamilyNames, rule)
	}
}
