package hive_test

import (
	"fmt"
	"log"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Triage without opening the hive: the first 4096 bytes say whether a
// collected hive needs its transaction logs, when it was last written and
// which file it was on the source machine.
func ExampleParseBaseBlock() {
	// A hive whose last write did not finish: primary sequence 3, secondary 2.
	data, err := hivetest.Build(&hivetest.Key{Name: "ROOT"},
		hivetest.WithSequence(3, 2),
		hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`),
		hivetest.WithLastWritten(time.Date(2024, 5, 1, 8, 30, 0, 123456700, time.UTC)))
	if err != nil {
		log.Fatal(err)
	}
	bb, err := hive.ParseBaseBlock(data[:hive.BaseBlockSize])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version:", bb.Major, bb.Minor)
	fmt.Println("sequences:", bb.PrimarySeq, bb.SecondarySeq, "checksum ok:", bb.ChecksumOK)
	fmt.Println("dirty:", bb.Dirty())
	fmt.Println("last written:", wintime.Format(bb.LastWritten))
	fmt.Println("file name:", bb.FileName)
	// Output:
	// version: 1 5
	// sequences: 3 2 checksum ok: true
	// dirty: true
	// last written: 2024-05-01T08:30:00.1234567Z
	// file name: \??\C:\Users\alice\ntuser.dat
}
