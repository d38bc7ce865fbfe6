package collector

import "testing"

func TestArchiveCollector(t *testing.T) {
	for path, want := range map[string]string{
		"data.ris.ripe.net/rrc00/2020.01/updates.20200101.0000.gz":                       "rrc00",
		"../shared/data/mrt/bgpkit-parser/tests/fixtures/ripe/rrc00/1999.12/bview.x.gz":  "rrc00",
		"/srv/ris/rrc21/2024.05/bview.20240501.0000.gz":                                  "rrc21",
		"ris.rrc06.updates.1427846400.gz":                                                "rrc06",
		"archive.routeviews.org/route-views.linx/bgpdata/2020.01/UPDATES/updates.x.bz2":  "route-views.linx",
		"archive.routeviews.org/route-views3/bgpdata/2020.01/RIBS/rib.20200101.0000.bz2": "route-views3",
		"archive.routeviews.org/bgpdata/2020.01/UPDATES/updates.20200101.0000.bz2":       "route-views2",
		"libbgpstream/test/routeviews.route-views.jinx.updates.1427846400.bz2":           "route-views.jinx",
		"/data/RRC03/2019.02/updates.20190201.0000.gz":                                   "rrc03",
	} {
		got, ok := ArchiveCollector(path)
		if !ok || got != want {
			t.Errorf("ArchiveCollector(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{
		"updates.20020722.2238.gz",
		"../shared/data/mrt/mrtparse/samples/quagga_rib",
		"/tmp/rrc/updates.gz",
		"/home/me/rrc001/x.mrt",
	} {
		if got, ok := ArchiveCollector(path); ok {
			t.Errorf("ArchiveCollector(%q) = %q, want no name", path, got)
		}
	}
}
