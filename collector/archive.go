package collector

import (
	"path/filepath"
	"regexp"
	"strings"
)

var (
	risCollector        = regexp.MustCompile(`(?:^|[./_-])(rrc[0-9]{2})(?:$|[./_-])`)
	routeViewsCollector = regexp.MustCompile(`(?:^|[./_-])(route-views[0-9]*(?:\.[a-z0-9-]+)?)`)
)

// ArchiveCollector names the collector an MRT archive file comes from, as
// RIPE RIS and RouteViews name theirs, from the file's path: a folder or
// file name holding rrcNN (RIS: .../rrc00/2020.01/updates.20200101.0000.gz,
// or BGPStream's ris.rrc06.updates...) or route-views… (RouteViews:
// .../route-views.linx/bgpdata/..., BGPStream's
// routeviews.route-views.jinx.updates...; RouteViews' own collector
// route-views2 keeps its files under bgpdata/ directly). It reports false
// when the path says nothing: the caller must then be told the name.
func ArchiveCollector(path string) (string, bool) {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	// The innermost folder or file name that says it wins.
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.ToLower(parts[i])
		if m := risCollector.FindStringSubmatch(p); m != nil {
			return m[1], true
		}
		if m := routeViewsCollector.FindStringSubmatch(p); m != nil {
			name := strings.TrimSuffix(m[1], ".bgpdata")
			for _, kind := range []string{".updates", ".rib", ".ribs"} {
				name = strings.TrimSuffix(name, kind)
			}
			return name, true
		}
		if p == "bgpdata" && i > 0 && !strings.HasPrefix(strings.ToLower(parts[i-1]), "route-views") {
			return "route-views2", true
		}
	}
	return "", false
}
