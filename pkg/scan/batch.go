package scan

import (
	"context"

	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
)

// HostCount returns how many hosts a scan of inputs will read (the same
// discovery Scan runs), so a caller can show progress as "done/total"
// before the first host finishes. Discovery only lists directories and
// archive directories, so this costs one extra walk of the inputs.
func HostCount(ctx context.Context, inputs []string) (int, error) {
	hosts, err := evidence.Discover(ctx, inputs, evidence.Options{})
	if len(hosts) > 0 {
		err = nil
	}
	return len(hosts), err
}

// openEvidenceHive opens a hive found by discovery with its logs: from
// disk with hive.Open, or, for a member of a ZIP collection, from the
// member's bytes (and its logs' bytes) read in place with
// evidence.ReadFile, bounded by the hive reader's size limit. Nothing is
// extracted to disk.
func openEvidenceHive(f evidence.File, noLogs bool, base []hive.Option) (*hive.Hive, error) {
	opts := append([]hive.Option(nil), base...)
	if f.Archive == "" {
		switch {
		case noLogs:
			opts = append(opts, hive.WithoutLogs())
		case len(f.Logs) > 0:
			opts = append(opts, hive.WithLogs(f.Logs...))
		}
		return hive.Open(f.Path, opts...)
	}
	data, err := evidence.ReadFile(f.Path, hive.DefaultMaxHiveSize)
	if err != nil {
		return nil, err
	}
	if noLogs {
		opts = append(opts, hive.WithoutLogs())
	} else {
		for _, l := range f.Logs {
			ld, err := evidence.ReadFile(l, hive.DefaultMaxHiveSize)
			if err != nil {
				return nil, err
			}
			opts = append(opts, hive.WithLogData(l, ld))
		}
	}
	return hive.Load(f.Path, data, opts...)
}
